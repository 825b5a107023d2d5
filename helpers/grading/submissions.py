"""What is wrong with a submission, before it is graded: its files, its student id, its notebooks, its test cells.

Blocking problems (not graded): an unusable student id, anything that is not a plain file or folder
(links, devices: :mod:`helpers.grading.intake`), a file that is not a notebook, crafted nbgrader
metadata, an assignment missing from the gradebook. Tampered or deleted test cells are reported but
graded: nbgrader restores every test cell from the gradebook before anything runs. Used by
``collect`` (with :func:`inbound_intake`, before nbgrader copies anything) and ``autograde``
(:mod:`helpers.grading.course`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from helpers.errors import CourseError
from helpers.grading.gradebook import open_gradebook
from helpers.grading.intake import copy_submission, inspect_submission, owner_problems
from helpers.grading.nbgrader_run import CourseDirs, StepReport, course_dirs

__all__ = ["SAFE_STUDENT_ID", "Intake", "check_submission", "inbound_intake", "submitted", "blocking"]

#: Student ids the kit grades (others are reported, not graded): letters, digits, . _ @ -
SAFE_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def submitted(assignment: str, dirs: CourseDirs) -> list[str]:
    """The students with a collected submission of ``assignment`` (folders under ``submitted/``)."""
    sub = dirs.root / "submitted"
    return sorted(p.name for p in sub.iterdir() if (p / assignment).is_dir()) if sub.is_dir() else []


def check_submission(assignment: str, student: str, dirs: CourseDirs | None = None) -> list[str]:
    """What is wrong with one submission, in words ([] when nothing).

    Blocking problems (the submission is not graded): an unusable student id, anything but plain
    files and folders (checked before anything is opened), a notebook that is not a notebook,
    nbgrader metadata of the wrong shape (nbgrader's own apps would crash on it). Tampered tests
    are reported but graded: nbgrader restores every test cell from the gradebook before running anything.
    """
    from nbgrader.api import MissingEntry

    dirs = dirs or course_dirs()
    if not SAFE_STUDENT_ID.match(student):
        return [
            f"student id {student!r} has characters the kit does not grade (use letters, digits, . _ @ -): "
            "not graded; rename the folder under submitted/ and run autograde again"
        ]
    folder = dirs.root / "submitted" / student / assignment
    if not os.path.lexists(folder):
        return [f"there is no submitted/{student}/{assignment}: not graded; run collect first"]
    files = [f"submitted/{student} is a link"] if os.path.islink(folder.parent) else inspect_submission(folder)
    if files:
        return [f"refused, not graded: {m} (a submission holds plain files and folders only)" for m in files]
    with open_gradebook(dirs) as gb:
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
    try:
        crafted = _crafted_metadata(nb)
    except (AttributeError, TypeError, KeyError) as e:  # cells or metadata of the wrong shape
        crafted = f"its structure is not a notebook's ({type(e).__name__})"
    if crafted:
        return [f"{path.name}: {crafted}: not graded; ask the student to submit a fresh copy of the notebook"]
    return _test_cell_problems(path.name, nb, entry, _release_checksums(release / path.name))


def _crafted_metadata(nb: Any) -> str:
    """What is wrong with the notebook's nbgrader metadata in shape (nbgrader's own apps would crash on it), or ''."""
    if not isinstance(nb.get("cells"), list):
        return "it has no list of cells"
    for i, cell in enumerate(nb.cells, 1):
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        if not isinstance(meta, dict) or not isinstance(cell.get("source", ""), str):
            return f"cell {i} is malformed"
        nbg = meta.get("nbgrader")
        if nbg is None:
            continue
        if not isinstance(nbg, dict):
            return f"cell {i} has nbgrader metadata that is not a mapping"
        if not isinstance(nbg.get("grade_id", ""), str):
            return f"cell {i} has a grade_id that is not a string"
        points = nbg.get("points", 0)
        if nbg.get("grade") and (isinstance(points, bool) or not isinstance(points, (int, float))):
            return f"cell {i} has points that are not a number ({str(points)[:40]!r})"
        if any(not isinstance(nbg.get(k, False), bool) for k in ("grade", "solution", "locked", "task")):
            return f"cell {i} has nbgrader flags that are not true/false"
    return ""


def _test_cell_problems(name: str, nb: Any, entry: Any, reference: dict[str, str]) -> list[str]:
    """Test and locked cells of the gradebook ``entry`` that the notebook deleted or changed."""
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    tests = {g.name for g in entry.grade_cells} - {s.name for s in entry.solution_cells}
    problems = []
    for src in entry.source_cells:
        if not (src.locked or src.name in tests):
            continue
        cell = cells.get(src.name)
        expected = reference.get(src.name, src.checksum)
        if cell is None and src.name not in tests and src.cell_type == "code":
            problems.append(
                f"{name}: read-only cell {src.name!r} was deleted or lost its grading metadata: not graded "
                "(nbgrader cannot put it back, and the tests depend on it); ask the student to restore it "
                "from the released notebook"
            )
        elif cell is None and src.name in tests:
            problems.append(f"{name}: test cell {src.name!r} was deleted (added back for grading)")
        elif expected and _checksum(cell) != expected:
            problems.append(
                f"{name}: cell {src.name!r} or its grading metadata was changed "
                "(restored from the gradebook for grading)"
            )
    return problems


def _checksum(cell: Any) -> str:
    """nbgrader's checksum of a cell ('' when its metadata lacks what nbgrader needs, e.g. a grade cell's points)."""
    from nbgrader.utils import compute_checksum

    try:
        return compute_checksum(cell)
    except (KeyError, TypeError, ValueError, AttributeError):
        return ""


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


@dataclass
class Intake:
    """What ``collect`` hands nbgrader: a private exchange holding one checked copy per student, and the rest."""

    dirs: CourseDirs  #: the course, with the private exchange nbgrader collects from
    refused: list[StepReport] = field(default_factory=list)  #: one row per refused inbound folder
    notes: dict[str, str] = field(default_factory=dict)  #: student -> note for the check row


@contextmanager
def inbound_intake(assignment: str, dirs: CourseDirs, check_owner: bool | None = None) -> Iterator[Intake]:
    """Check each student's inbound submissions (newest first) and copy the newest acceptable one aside.

    nbgrader's ``collect`` copies inbound folders following links and trusts their names; it is run
    on the private exchange this yields instead, which holds only copies made here, of folders that
    hold plain files only and (see :func:`helpers.grading.intake.owner_problems`) belong to the
    student they name. A newer refused submission gets a row; an older acceptable one is collected.
    """
    inbound = dirs.exchange / dirs.course_id / "inbound"
    with tempfile.TemporaryDirectory(prefix="course-intake-") as tmp:
        private = Path(tmp) / "exchange"
        (private / dirs.course_id / "inbound").mkdir(parents=True)
        intake = Intake(replace(dirs, exchange=private))
        for student, names in _inbound_by_student(inbound, assignment, intake).items():
            for name in names:  # "<student>+..." or, in a personal inbound folder, "<student>/<student>+..."
                dest = private / dirs.course_id / "inbound" / Path(name).name
                try:
                    problems = _intake_one(inbound / name, dest, student, check_owner, intake)
                except OSError as e:  # the student changed the folder while it was read
                    problems = [f"it could not be read ({e.strerror or e})"]
                if not problems:
                    break
                shutil.rmtree(dest, ignore_errors=True)
                intake.refused.append(
                    StepReport(
                        "collect", assignment, student, False, 0.0, f"{name}: not collected: {'; '.join(problems)}"
                    )
                )
        yield intake


def _intake_one(src: Path, dest: Path, student: str, check_owner: bool | None, intake: Intake) -> list[str]:
    """Check one inbound folder and copy it to ``dest`` ([] when copied; the owner note goes to ``intake``)."""
    files = inspect_submission(src)
    if files:
        return [*files, "a submission holds plain files and folders only"]
    problems, note = owner_problems(src, student, check_owner)
    if problems:
        return [*problems, "the folder's name says who submitted it, its owner says otherwise"]
    if note:
        intake.notes[student] = note
    return copy_submission(src, dest)


def _inbound_by_student(inbound: Path, assignment: str, intake: Intake) -> dict[str, list[str]]:
    """student -> inbound submissions of ``assignment`` (names relative to ``inbound``), newest first.

    Flat ones (``<student>+<lab>+<time>+<random>``) and, with personal inbound folders
    (:mod:`helpers.grading.exchange`), ``<student>/<student>+...``: a folder's submission named for another
    student, and a name nbgrader cannot parse, get a row and are not collected.
    """
    found: dict[str, list[tuple[Any, str]]] = {}
    for folder, name in _inbound_names(inbound):
        parts = name.rsplit("+", 3)
        if name.startswith(".") or len(parts) != 4 or parts[1] != assignment:
            continue  # not a submission of this assignment (nbgrader would not pick it either)
        rel = f"{folder}/{name}" if folder else name
        problem = _name_problem(parts, folder)
        if problem:
            intake.refused.append(
                StepReport("collect", assignment, parts[0], False, 0.0, f"{rel!r}: not collected: {problem}")
            )
            continue
        found.setdefault(parts[0], []).append((_stamp(parts[2]), rel))
    return {s: [n for _, n in sorted(v, reverse=True)] for s, v in sorted(found.items())}


def _inbound_names(inbound: Path) -> list[tuple[str, str]]:
    """(personal folder or "", entry name) of everything in ``inbound`` and in its personal folders."""
    try:
        names = os.listdir(inbound)
    except FileNotFoundError:
        return []
    except OSError as e:
        raise CourseError(f"Cannot list {inbound}: {e.strerror}.", "Run collect as the instructor who released.") from e
    found = [("", n) for n in names]
    for folder in names:
        path = inbound / folder
        if "+" in folder or folder.startswith(".") or path.is_symlink() or not path.is_dir():
            continue
        try:
            found += [(folder, n) for n in os.listdir(path)]
        except OSError as e:
            raise CourseError(f"Cannot list {path}: {e.strerror}.", "Run collect as the instructor.") from e
    return found


def _stamp(text: str) -> Any:
    """The submission time of a name's timestamp part (``None`` when nbgrader cannot read it)."""
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(text)
    except Exception:  # noqa: BLE001  (dateutil raises several kinds)
        return None


def _name_problem(parts: list[str], folder: str) -> str:
    """Why a submission's name is refused ("" when it is fine)."""
    if parts[0] in ("", ".", "..") or _stamp(parts[2]) is None:
        return "not <student>+<lab>+<time>+<random>"
    if folder and parts[0] != folder:
        return f"it is in {folder}'s inbound folder but names {parts[0]}"
    return ""
