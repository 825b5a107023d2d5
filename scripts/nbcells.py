"""Cell builders shared by the scripts that write course notebooks with nbformat."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

ROOT = Path(__file__).resolve().parent.parent


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip())


def code(text: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = tags
    return cell


def solution(grade_id: str, text: str) -> nbformat.NotebookNode:
    """An answer cell: nbgrader replaces what is between BEGIN/END SOLUTION with a stub."""
    cell = code(text)
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": grade_id,
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    return cell


def test(grade_id: str, points: int, text: str) -> nbformat.NotebookNode:
    """A locked autograder cell worth ``points``."""
    cell = code(text)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": points,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return cell


def stable_ids(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Give cells ids derived from their content (graded cells: their grade_id), so that
    regenerating an unchanged notebook rewrites it byte for byte (no churn in diffs)."""
    import hashlib

    seen: set[str] = set()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        base = grade_id or f"{cell.cell_type[:2]}-{hashlib.sha1(cell.source.encode()).hexdigest()[:8]}"
        cid, n = base, 1
        while cid in seen:
            n += 1
            cid = f"{base}-{n}"
        seen.add(cid)
        cell.id = cid
    return nb
