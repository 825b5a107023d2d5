"""Dockerfile syntax (the one parser) and the best-practice review rules."""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "COURSE_RULES": "courserules",
    "Dockerfile": "dockerfile",
    "Finding": "findings",
    "INSTRUCTIONS": "dockerfile",
    "Instruction": "dockerfile",
    "Stage": "dockerfile",
    "course_findings": "courserules",
    "critique_widget": "widgets",
    "findings_frame": "findings",
    "hadolint_findings": "hadolint",
    "numbered": "widgets",
    "parse_dockerfile": "dockerfile",
    "read_dockerfile": "dockerfile",
    "review_dockerfile": "rules",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
