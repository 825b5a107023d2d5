"""What a review reports: one :class:`Finding` per problem, whichever linter found it.

Both rule sets (the course's own, :mod:`helpers.review.courserules`, and hadolint's,
:mod:`helpers.review.hadolint`) report the same record, so a notebook shows and sorts them
together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Finding", "findings_frame"]

#: Severity -> sort rank (most severe first).
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "style": 3}


@dataclass
class Finding:
    """One finding: rule id, 1-based line (0: the whole file), severity, one-line message, the fix."""

    rule: str
    line: int
    severity: str
    message: str
    fix: str
    source: str = "course"


def findings_frame(findings: list[Finding]) -> Any:
    """The findings as a pandas DataFrame (rule, line, severity, message, fix, source)."""
    import pandas as pd

    return pd.DataFrame([asdict(f) for f in findings], columns=["rule", "line", "severity", "message", "fix", "source"])
