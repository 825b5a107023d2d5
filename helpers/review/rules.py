"""Best-practice review of a Dockerfile: hadolint's findings plus the course's own rules.

The course rules (:mod:`helpers.review.courserules`) cover what hadolint
(:mod:`helpers.review.hadolint`) does not look at, or looks at without the "why" a student
needs. Where hadolint already reports the same thing on the same line, the course rule is left
out; the rest are merged and sorted by line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.review.courserules import COURSE_RULES, course_findings
from helpers.review.dockerfile import parse_dockerfile, read_dockerfile
from helpers.review.findings import SEVERITY_ORDER, Finding
from helpers.review.hadolint import hadolint_findings

__all__ = ["review_dockerfile"]


def _dockerignore_for(path: Path) -> str | None:
    """The .dockerignore that goes with the Dockerfile at ``path`` (``<name>.dockerignore`` first), if any."""
    for candidate in (path.with_name(path.name + ".dockerignore"), path.parent / ".dockerignore"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8", errors="replace")
    return None


def review_dockerfile(
    path: str | Path | None = None, text: str | None = None, dockerignore: Any = None, hadolint: bool = True
) -> list[Finding]:
    """Review a Dockerfile: hadolint's findings and the course rules, sorted by line.

    Args:
        path: The Dockerfile. Its .dockerignore is ``<path>.dockerignore`` or ``.dockerignore`` beside it.
        text: Dockerfile text instead of a path.
        dockerignore: .dockerignore text (with ``text=``); None: there is none; False: skip that rule.
        hadolint: Also run hadolint.

    Returns:
        The findings of both rule sets, sorted by line, then severity.

    Raises:
        DockerfileError: The file is not a Dockerfile (empty, unknown instruction, broken continuation ...).
        ToolMissing: hadolint is requested and not installed.
    """
    if path is not None:
        df = read_dockerfile(path)
        text = Path(path).read_text(encoding="utf-8")
        if dockerignore is None:
            dockerignore = _dockerignore_for(Path(path))
    elif text is not None:
        df = parse_dockerfile(text)
    else:
        raise ValueError("pass path= or text=")
    findings = hadolint_findings(text) if hadolint else []
    same = {(f.line, f.rule) for f in findings}
    for f in course_findings(df, dockerignore):
        if not any((f.line, code) in same for code in COURSE_RULES[f.rule][3]):
            findings.append(f)
    return sorted(findings, key=lambda f: (f.line, SEVERITY_ORDER.get(f.severity, 9), f.rule))
