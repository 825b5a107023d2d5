"""What is wrong with a submission, before it is graded: its student id, its notebooks, its test cells.

Blocking problems (not graded): an unusable student id, a file that is not a notebook, an assignment
missing from the gradebook. Tampered or deleted test cells are reported but graded: nbgrader restores
every test cell from the gradebook before anything runs. Used by ``collect`` and ``autograde``
(:mod:`helpers.grading.course`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from helpers.grading.nbgrader_run import CourseDirs, course_dirs

__all__ = ["SAFE_STUDENT_ID", "check_submission", "submitted", "blocking"]

#: Student ids the kit grades (others are reported, not graded): letters, digits, . _ @ -
SAFE_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def submitted(assignment: str, dirs: CourseDirs) -> list[str]:
    """The students with a collected submission of ``assignment`` (folders under ``submitted/``)."""
    sub = dirs.root / "submitted"
    return sorted(p.name for p in sub.iterdir() if (p / assignment).is_dir()) if sub.is_dir() else []


def check_submission(assignment: str, student: str, dirs: CourseDirs | None = None) -> list[str]:
    """What is wrong with one submission, in words ([] when nothing).

    Blocking problems (the submission is not graded): an unusable student id, a notebook that is
    not a notebook, a missing notebook. Tampered tests are reported but graded: nbgrader restores
    every test cell from the gradebook before running anything.
    """
    from nbgrader.api import Gradebook, MissingEntry

    dirs = dirs or course_dirs()
    if not SAFE_STUDENT_ID.match(student):
        return [
            f"student id {student!r} has characters the kit does not grade (use letters, digits, . _ @ -): "
            "not graded; rename the folder under submitted/ and run autograde again"
        ]
    folder = dirs.root / "submitted" / student / assignment
    with Gradebook(f"sqlite:///{dirs.root / 'gradebook.db'}", dirs.course_id) as gb:
        try:
            notebooks = gb.find_assignment(assignment).notebooks
        except MissingEntry:
            return [f"assignment {assignment!r} is not in the gradebook: run `make release` first"]
        release = dirs.root / "release" / assignment
        return [p for entry in notebooks for p in _notebook_problems(folder / f"{entry.name}.ipynb", entry, release)]


def _notebook_problems(path: Path, entry: Any, release: Path) -> list[str]:
    """What is wrong with one submitted notebook: missing, unreadable, or test cells deleted or changed."""
    import nbformat

    if not path.exists():
        return [f"{path.name} is missing (scored 0)"]
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # noqa: BLE001  (any unreadable file)
        return [
            f"{path.name} is not a notebook ({type(e).__name__}): not graded; "
            "ask the student to submit the .ipynb file again"
        ]
    return _test_cell_problems(path.name, nb, entry, _release_checksums(release / path.name))


def _test_cell_problems(name: str, nb: Any, entry: Any, reference: dict[str, str]) -> list[str]:
    """Test and locked cells of the gradebook ``entry`` that the notebook deleted or changed."""
    from nbgrader.utils import compute_checksum

    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    tests = {g.name for g in entry.grade_cells} - {s.name for s in entry.solution_cells}
    problems = []
    for src in entry.source_cells:
        if not (src.locked or src.name in tests):
            continue
        cell = cells.get(src.name)
        expected = reference.get(src.name, src.checksum)
        if cell is None:
            problems.append(f"{name}: test cell {src.name!r} was deleted (restored for grading)")
        elif expected and compute_checksum(cell) != expected:
            problems.append(
                f"{name}: cell {src.name!r} or its grading metadata was changed "
                "(restored from the gradebook for grading)"
            )
    return problems


def _release_checksums(path: Path) -> dict[str, str]:
    """grade_id -> checksum of the cells as released (hidden tests removed), from the trusted release/."""
    import nbformat
    from nbgrader.utils import compute_checksum

    if not path.exists():
        return {}
    nb = nbformat.read(path, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: compute_checksum(c)
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }


def blocking(problems: list[str]) -> bool:
    """True when a problem keeps the submission from being graded at all."""
    return any("not graded" in p or "not in the gradebook" in p for p in problems)
