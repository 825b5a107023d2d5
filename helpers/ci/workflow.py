"""Check a GitHub Actions workflow that builds, tests and pushes a container image.

GitHub itself is not reachable from a classroom, so the kit reads the workflow file and
checks what a reviewer would: valid YAML, the right triggers, a build step, integration
tests that run against the container, a push that happens only on ``main`` with a
versioned tag, and no secret printed to the log. :mod:`helpers.ci.pipeline` then runs the
same stages on the local engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.errors import ConfigFileError

__all__ = ["Check", "WorkflowReport", "load_workflow", "check_workflow", "workflow_steps"]


class _LineDict(dict):
    """A mapping that remembers the line it started on (1-based)."""

    line: int = 0


def _loader() -> type:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: Any, node: Any, deep: bool = False) -> _LineDict:
        loader.flatten_mapping(node)
        out = _LineDict()
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key is True and key_node.value in ("on", "On", "ON"):
                key = "on"  # YAML 1.1 reads a bare `on:` as the boolean true
            out[key] = loader.construct_object(value_node, deep=deep)
        out.line = node.start_mark.line + 1
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def load_workflow(source: str | Path) -> dict[str, Any]:
    """Parse a workflow file (a path, or the YAML text itself).

    Raises:
        ConfigFileError: The YAML does not parse (names the line) or is not a workflow.
    """
    import yaml

    path = "workflow"
    if isinstance(source, Path) or ("\n" not in str(source) and str(source).endswith((".yml", ".yaml"))):
        path = str(source)
        try:
            text = Path(source).read_text()
        except OSError as e:
            raise ConfigFileError(path, f"cannot be read ({e.strerror})", hint="Check the path.") from e
    else:
        text = str(source)
    try:
        doc = yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 0
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigFileError(
            path,
            f"is not valid YAML: {problem}",
            line=line,
            hint="Check the indentation (spaces, not tabs) and the colons on that line.",
        ) from e
    if not isinstance(doc, dict) or "jobs" not in doc:
        raise ConfigFileError(
            path,
            "is not a GitHub Actions workflow (no `jobs:` mapping)",
            hint="A workflow has `name:`, `on:` and `jobs:` at the top level.",
        )
    return doc


@dataclass
class Check:
    """One check of the workflow."""

    name: str
    passed: bool
    detail: str
    line: int = 0


@dataclass
class WorkflowReport:
    """The result of :func:`check_workflow`."""

    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def check(self, name: str) -> Check:
        """The check called ``name``."""
        return next(c for c in self.checks if c.name == name)

    def frame(self) -> Any:
        """The checks as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([c.__dict__ for c in self.checks], columns=["name", "passed", "detail", "line"])

    def text(self) -> str:
        """A readable report, one line per check."""
        rows = [
            f"{'PASS' if c.passed else 'FAIL'}  {c.name:<22} {c.detail}" + (f" (line {c.line})" if c.line else "")
            for c in self.checks
        ]
        return "\n".join(rows)


@dataclass
class _Step:
    job: str
    index: int
    name: str
    run: str
    uses: str
    cond: str
    job_cond: str
    with_: dict[str, Any]
    env: dict[str, Any]
    line: int


def workflow_steps(doc: dict[str, Any]) -> list[_Step]:
    """Every step of every job, in order, with its job's condition."""
    out = []
    for job_name, job in (doc.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        for i, step in enumerate(job.get("steps") or []):
            if not isinstance(step, dict):
                continue
            out.append(
                _Step(
                    job_name,
                    i,
                    str(step.get("name", step.get("uses", step.get("run", ""))))[:60],
                    str(step.get("run", "")),
                    str(step.get("uses", "")),
                    str(step.get("if", "")),
                    str(job.get("if", "")),
                    dict(step.get("with") or {}),
                    {**dict(doc.get("env") or {}), **dict(job.get("env") or {}), **dict(step.get("env") or {})},
                    getattr(step, "line", 0),
                )
            )
    return out


_MAIN_COND = re.compile(r"refs/heads/main|github\.ref_name\s*==\s*'main'|github\.event_name\s*==\s*'push'")
_BUILD = re.compile(r"docker\s+(?:buildx\s+)?build\b|docker\s+compose\s+build|docker-compose\s+build")
_START = re.compile(r"docker\s+run\b[^\n]*\s(?:-d|--detach)\b|docker\s+(?:compose|-compose)\s+up|docker-compose\s+up")
_TESTS = re.compile(r"\bpytest\b|\bunittest\b|\bcurl\b|\bwget\b|integration|\btests?\b|app-url|APP_URL", re.I)
_PUSH = re.compile(r"docker\s+push\b|docker\s+buildx\s+build[^\n]*--push|docker\s+(?:compose|-compose)\s+push")
_VERSIONED = re.compile(
    r"github\.sha|GITHUB_SHA|github\.ref_name|GITHUB_REF_NAME|steps\.\w+\.outputs|version|VERSION|"
    r"\bv?\d+\.\d+\.\d+\b|run_number|GITHUB_RUN_NUMBER"
)


def _triggers(doc: dict[str, Any]) -> Check:
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
    if branches is not None and "main" not in branches:
        return Check("triggers", False, f"push runs on {branches}, not on main", line)
    return Check("triggers", True, "pull_request, and push to main", line)


def _secret_leaks(steps: list[_Step]) -> list[tuple[_Step, str]]:
    leaks = []
    for s in steps:
        secret_vars = [k for k, v in s.env.items() if "secrets." in str(v)]
        names = "|".join(re.escape(v) for v in secret_vars) or r"(?!x)x"
        for raw in s.run.splitlines():
            line = raw.strip()
            uses_secret = "secrets." in line or re.search(rf"\$\{{?(?:{names})\b", line)
            if re.match(r"set\s+-\w*x", line) and (secret_vars or "secrets." in s.run):
                leaks.append((s, "`set -x` prints every command with the secret expanded"))
            elif re.search(r"^\s*(?:env|printenv)\s*$", line) and secret_vars:
                leaks.append((s, f"`{line}` prints the secret environment variables"))
            elif uses_secret and re.search(r"\b(?:echo|printf|cat)\b", line) and "--password-stdin" not in line:
                leaks.append((s, f"`{line[:60]}` prints a secret to the log"))
            elif uses_secret and re.search(r"docker\s+login\b.*\s(?:-p|--password)[\s=]", line):
                leaks.append((s, "`docker login -p` puts the password on the command line: use --password-stdin"))
    return leaks


def check_workflow(source: str | Path) -> WorkflowReport:
    """Check a workflow the way a reviewer of a container CI pipeline would.

    Args:
        source: A path to the workflow file, or its YAML text.

    Returns:
        A :class:`WorkflowReport` with the checks "yaml", "triggers", "build",
        "integration tests", "push only on main" and "no secrets printed".

    Raises:
        ConfigFileError: The file does not parse as YAML (the message names the line).
    """
    doc = load_workflow(source)
    steps = workflow_steps(doc)
    report = WorkflowReport([Check("yaml", True, f"valid YAML, {len(steps)} steps in {len(doc['jobs'])} job(s)")])
    report.checks.append(_triggers(doc))

    builds = [s for s in steps if _BUILD.search(s.run) or "build-push-action" in s.uses]
    report.checks.append(
        Check(
            "build",
            bool(builds),
            f"built in step {builds[0].name!r}" if builds else "no step builds the image (docker build)",
            builds[0].line if builds else 0,
        )
    )

    services = any(isinstance(j, dict) and j.get("services") for j in doc["jobs"].values())
    starts = [s for s in steps if _START.search(s.run)]
    first_start = (starts[0].job, starts[0].index) if starts else None
    tests = [
        s
        for s in steps
        if s.run
        and _TESTS.search(s.name + "\n" + s.run)
        and not _BUILD.search(s.run)
        and (services or (first_start is not None and s.job == first_start[0] and s.index > first_start[1]))
    ]
    if tests:
        how = "a service container" if services and not starts else f"the container started in {starts[0].name!r}"
        report.checks.append(Check("integration tests", True, f"{tests[0].name!r} runs against {how}", tests[0].line))
    elif not starts and not services:
        report.checks.append(
            Check(
                "integration tests",
                False,
                "the image is never started (docker run -d, docker compose up, or services:)",
            )
        )
    else:
        report.checks.append(
            Check(
                "integration tests",
                False,
                "no step runs tests (pytest, curl ...) after the container starts",
                starts[0].line if starts else 0,
            )
        )

    pushes = [
        s
        for s in steps
        if _PUSH.search(s.run)
        or ("build-push-action" in s.uses and str(s.with_.get("push", "false")).lower() != "false")
    ]
    if not pushes:
        report.checks.append(Check("push only on main", False, "no step pushes the image (docker push)"))
    else:
        ungated = [
            s
            for s in pushes
            if not (
                _MAIN_COND.search(s.cond)
                or _MAIN_COND.search(s.job_cond)
                or _MAIN_COND.search(str(s.with_.get("push", "")))
            )
        ]
        unversioned = [s for s in pushes if not _VERSIONED.search(s.run + str(s.with_.get("tags", "")) + str(s.env))]
        if ungated:
            report.checks.append(
                Check(
                    "push only on main",
                    False,
                    f"step {ungated[0].name!r} pushes on pull requests too: add `if: github.ref == 'refs/heads/main'`",
                    ungated[0].line,
                )
            )
        elif unversioned:
            report.checks.append(
                Check(
                    "push only on main",
                    False,
                    f"step {unversioned[0].name!r} pushes no versioned tag (use ${{{{ github.sha }}}})",
                    unversioned[0].line,
                )
            )
        else:
            report.checks.append(
                Check(
                    "push only on main",
                    True,
                    f"{pushes[0].name!r} pushes a versioned tag, only on main",
                    pushes[0].line,
                )
            )

    leaks = _secret_leaks(steps)
    report.checks.append(
        Check(
            "no secrets printed",
            not leaks,
            f"step {leaks[0][0].name!r}: {leaks[0][1]}" if leaks else "no secret is echoed or traced",
            leaks[0][0].line if leaks else 0,
        )
    )
    return report
