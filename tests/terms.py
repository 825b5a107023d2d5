"""docs/INSTRUCTOR.md, "A term on each platform": the command lines of each platform's block, for the tests that
check them (``tests/unit/test_instructor_terms.py``, ``make -n``) and run one for real
(``tests/engine/grading/test_term.py``)."""

from __future__ import annotations

import re

from kitroot import ROOT

DOC = ROOT / "docs" / "INSTRUCTOR.md"
PLATFORMS = ("On one machine", "JupyterHub", "Codespaces and GitHub Classroom")


def section() -> str:
    """The section's text."""
    text = DOC.read_text()
    start = text.index("## A term on each platform\n")
    return text[start : text.index("\n## ", start + 1)]


def blocks() -> dict[str, list[str]]:
    """platform heading -> the command lines of its bash block (comments dropped)."""
    found = {}
    for m in re.finditer(r"^### (.+?)\n(.*?)```bash\n(.*?)```", section(), re.S | re.M):
        found[m.group(1)] = [ln.split("  #")[0].strip() for ln in m.group(3).splitlines() if ln.strip()]
    return found
