"""dive's CI rules (``dive --ci``) over a :class:`~helpers.layers.analysis.LayerAnalysis`.

Same rules, defaults and comparisons as dive 0.13.1 (``runtime/ci/rules.go``):

* ``lowestEfficiency`` (default 0.9): fails when the threshold is above the efficiency;
* ``highestWastedBytes`` (default ``disabled``): fails when wasted bytes exceed it
  (``20MB`` = 20 000 000, ``20MiB`` = 20 971 520, as go-humanize parses them);
* ``highestUserWastedPercent`` (default 0.1): a ratio, fails when the user wasted percent exceeds it.

Any rule set to ``disabled`` is skipped. Values come from flags, else a ``.dive-ci`` YAML file
(``rules: {lowestEfficiency: 0.95, ...}``), else the defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from helpers.bounded import load_yaml, read_text_capped
from helpers.errors import CourseError

__all__ = ["CI_DEFAULTS", "CIRuleResult", "CIResult", "load_ci_config", "evaluate_ci", "parse_bytes"]

CI_DEFAULTS: dict[str, str] = {
    "lowestEfficiency": "0.9",
    "highestWastedBytes": "disabled",
    "highestUserWastedPercent": "0.1",
}
#: Largest ``.dive-ci`` the kit reads (three rules fit in a hundred bytes; the file may be a student's).
CI_CONFIG_CAP = 16 << 10

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "ki": 2**10,
    "kib": 2**10,
    "mi": 2**20,
    "mib": 2**20,
    "gi": 2**30,
    "gib": 2**30,
    "ti": 2**40,
    "tib": 2**40,
}


def parse_bytes(text: str) -> int:
    """Parse a size the way go-humanize's ParseBytes does ("20MB", "1.5 GiB", "1024").

    Raises:
        ValueError: The text is not a size.
    """
    # stripped first: `\s*([A-Za-z]*)\s*` around an empty unit backtracks quadratically on a run of blanks
    m = re.fullmatch(r"([0-9][0-9,]*(?:\.[0-9]*)?)\s*([A-Za-z]*)", text.strip())
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {text!r}")
    return int(float(m.group(1).replace(",", "")) * _UNITS[m.group(2).lower()])


@dataclass
class CIRuleResult:
    """One rule: its name, the configured value, PASS/FAIL/SKIP and why."""

    rule: str
    value: str
    status: str
    message: str = ""


@dataclass
class CIResult:
    """All rules; ``passed`` is False when any rule failed or was misconfigured."""

    passed: bool
    rules: list[CIRuleResult] = field(default_factory=list)

    def report(self) -> str:
        lines = ["Results:"]
        for r in sorted(self.rules, key=lambda r: r.rule):
            lines.append(f"  {r.status}: {r.rule}" + (f": {r.message}" if r.message else ""))
        tally = {s: sum(r.status == s for r in self.rules) for s in ("PASS", "FAIL", "SKIP")}
        lines.append(
            f"Result:{'PASS' if self.passed else 'FAIL'} [Total:{len(self.rules)}] [Passed:{tally['PASS']}] "
            f"[Failed:{tally['FAIL']}] [Skipped:{tally['SKIP']}]"
        )
        return "\n".join(lines)


def load_ci_config(path: str | os.PathLike[str] | None = ".dive-ci", required: bool = False) -> dict[str, str]:
    """Read the ``rules`` of a ``.dive-ci`` file (missing file: no rules, unless ``required``).

    Raises:
        CourseError: The file cannot be read or is not YAML with a ``rules`` mapping.
    """
    if path is None or not os.path.isfile(path):
        if required:
            raise CourseError(f"CI config {path} does not exist.", "Pass an existing .dive-ci file or leave it out.")
        return {}
    # a student's file: read under a size cap, and as YAML without aliases (ConfigFileError is a CourseError)
    text = read_text_capped(path, CI_CONFIG_CAP, name=str(path))
    data = load_yaml(text, str(path), cap=CI_CONFIG_CAP, hint="Fix the YAML (see dive's README).") or {}
    rules = data.get("rules", {}) if isinstance(data, dict) else None
    if not isinstance(rules, dict):
        raise CourseError(f"{path} has no `rules:` mapping.", "Write e.g. `rules:\\n  lowestEfficiency: 0.95`.")
    unknown = set(rules) - set(CI_DEFAULTS)
    if unknown:
        raise CourseError(f"{path}: unknown rule(s) {sorted(unknown)}.", f"Known rules: {', '.join(CI_DEFAULTS)}.")
    return {k: str(v) for k, v in rules.items()}


def evaluate_ci(
    analysis: Any, overrides: Mapping[str, Any] | None = None, config_file: str | os.PathLike[str] | None = None
) -> CIResult:
    """Apply dive's CI rules to an analysis.

    Args:
        analysis: A :class:`~helpers.layers.analysis.LayerAnalysis` (dive figures are used).
        overrides: Rule values that win over the file and the defaults (None values are ignored).
        config_file: A ``.dive-ci`` file to read (None: none).

    Returns:
        A :class:`CIResult`.
    """
    values = dict(CI_DEFAULTS)
    values.update(load_ci_config(config_file) if config_file else {})
    values.update({k: str(v) for k, v in (overrides or {}).items() if v is not None})
    results, passed = [], True
    for rule, value in values.items():
        if value.strip().lower() == "disabled":
            results.append(CIRuleResult(rule, value, "SKIP", "rule disabled"))
            continue
        status, message = _check(rule, value, analysis)
        passed &= status == "PASS"
        results.append(CIRuleResult(rule, value, status, message))
    return CIResult(passed, results)


def _check(rule: str, value: str, a: Any) -> tuple[str, str]:
    try:
        limit: float = parse_bytes(value) if rule == "highestWastedBytes" else float(value)
    except ValueError:
        return "FAIL", f"invalid config value ({value!r})"
    if rule == "lowestEfficiency" and limit > a.efficiency:
        return "FAIL", f"image efficiency is too low (efficiency={a.efficiency} < threshold={limit})"
    if rule == "highestWastedBytes" and a.wasted_bytes > limit:
        return "FAIL", f"too many bytes wasted (wasted-bytes={a.wasted_bytes} > threshold={int(limit)})"
    if rule == "highestUserWastedPercent" and limit < a.user_wasted_percent:
        return "FAIL", (
            "too many bytes wasted, relative to the user bytes added "
            f"(%-user-wasted-bytes={a.user_wasted_percent} > threshold={limit})"
        )
    return "PASS", ""
