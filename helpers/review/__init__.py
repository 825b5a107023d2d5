"""Dockerfile syntax (the one parser) and the best-practice review rules."""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "COURSE_RULES": "rules",
    "Dockerfile": "dockerfile",
    "Finding": "rules",
    "INSTRUCTIONS": "dockerfile",
    "Instruction": "dockerfile",
    "Stage": "dockerfile",
    "course_findings": "rules",
    "critique_widget": "widgets",
    "findings_frame": "rules",
    "hadolint_findings": "rules",
    "numbered": "widgets",
    "parse_dockerfile": "dockerfile",
    "read_dockerfile": "dockerfile",
    "review_dockerfile": "rules",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
