"""A lab's grading settings: its ``grading.yml``, read on the instructor's side.

``source/<lab>/grading.yml``::

    sandbox: {memory: 768m, timeout: 240, cell_timeout: 60}   # SandboxLimits overrides for the notebook's run
    verdicts: [test_image_builds, test_health_answers]       # the graded cells the grader decides from the files
    answers: [Dockerfile]                                    # the files the student writes (graded as submitted)
    build_timeout: 600                                       # seconds per build the grader does
    verdict_timeout: 1200                                    # seconds for all of one submission's checks
    graded: {severity_threshold: HIGH, scan_source: auto}    # settings a grade depends on

Settings a grade depends on (a severity threshold, a scan source) live here, on the instructor's side, never
in a notebook cell the student's kernel can change; the lab's ``verdicts()`` read them with
:meth:`GradingSpec.setting` (names and allowed values: :data:`GRADED_SETTINGS`). Any other key is an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.errors import CourseError
from helpers.grading.sandbox import SandboxLimits
from helpers.paths import course_root
from helpers.supplychain.scan import SOURCES
from helpers.supplychain.severity import SEVERITIES

__all__ = ["GradingSpec", "load_spec", "GRADED_SETTINGS"]

#: The graded settings a ``grading.yml`` may hold (``graded:``), each with the values it may take.
GRADED_SETTINGS: dict[str, tuple[str, ...]] = {
    "severity_threshold": tuple(SEVERITIES),
    "scan_source": tuple(SOURCES),
}


#: The keys a ``grading.yml`` may have.
KNOWN_KEYS = {
    "sandbox",
    "build_timeout",
    "graded",
    "verdicts",
    "verdict_timeout",
    "answers",
}


@dataclass(frozen=True)
class GradingSpec:
    """A lab's grading settings."""

    assignment: str
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    build_timeout: int = 600
    graded: tuple[tuple[str, str], ...] = ()
    verdicts: tuple[str, ...] = ()
    verdict_timeout: int = 1200
    answers: tuple[str, ...] = ()

    def setting(self, name: str, default: str) -> str:
        """A graded setting of the lab's ``grading.yml`` (``default`` when the file does not set it)."""
        if name not in GRADED_SETTINGS:
            raise KeyError(f"{name!r} is not a graded setting ({', '.join(GRADED_SETTINGS)})")
        return dict(self.graded).get(name, default)


def _graded_settings(data: Any) -> tuple[tuple[str, str], ...]:
    """The ``graded:`` mapping, checked: known names only, each with one of its allowed values."""
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise TypeError("graded must be a mapping of setting -> value")
    out = []
    for name, value in data.items():
        if name not in GRADED_SETTINGS:
            raise TypeError(f"unknown graded setting {name!r} (known: {', '.join(GRADED_SETTINGS)})")
        allowed = GRADED_SETTINGS[name]
        if not isinstance(value, str) or value.upper() not in {a.upper() for a in allowed}:
            raise TypeError(f"graded setting {name} must be one of {', '.join(allowed)}, not {value!r}")
        out.append((name, next(a for a in allowed if a.upper() == value.upper())))
    return tuple(sorted(out))


def load_spec(assignment: str, root: str | os.PathLike[str] | None = None) -> GradingSpec:
    """Read ``source/<assignment>/grading.yml`` (defaults when the lab has none).

    Raises:
        CourseError: The file exists but is not valid.
    """
    import yaml

    path = Path(root or course_root()) / "source" / assignment / "grading.yml"
    if not path.exists():
        return GradingSpec(assignment)
    try:
        data = yaml.safe_load(path.read_text()) or {}
        unknown = set(data) - KNOWN_KEYS
        if unknown:
            raise TypeError(f"unknown keys {sorted(unknown)}")
        return GradingSpec(
            assignment,
            SandboxLimits.from_mapping(data.get("sandbox") or {}),
            int(data.get("build_timeout", 600)),
            _graded_settings(data.get("graded")),
            tuple(str(v) for v in data.get("verdicts") or ()),
            int(data.get("verdict_timeout", 1200)),
            tuple(str(a) for a in data.get("answers") or ()),
        )
    except (yaml.YAMLError, TypeError, AttributeError, ValueError) as e:
        raise CourseError(f"{path} is not a valid grading spec ({e}).", "See the format in docs/INSTRUCTOR.md.") from e
