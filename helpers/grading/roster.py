"""The class roster: a CSV of students read within bounds and written into nbgrader's gradebook.

``make roster FILE=students.csv`` (``python -m helpers course roster FILE``). The CSV has a header row
and the column ``id`` (the student's nbgrader id: on a hub, their user name); ``first_name``,
``last_name``, ``email`` and ``lms_user_id`` are optional, other columns are ignored. A student id
becomes a folder name (``submitted/<id>/``), so only ids the kit grades are accepted
(:data:`helpers.grading.submissions.SAFE_STUDENT_ID`). Importing twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.bounded import read_text_capped
from helpers.errors import CourseError
from helpers.grading.gradebook import open_gradebook
from helpers.grading.nbgrader_run import CourseDirs, course_dirs
from helpers.grading.submissions import SAFE_STUDENT_ID

__all__ = ["FIELDS", "ROSTER_CAP", "MAX_STUDENTS", "MAX_FIELD", "Roster", "read_roster", "import_roster"]

#: The gradebook's student fields a roster may set (besides ``id``).
FIELDS = ("first_name", "last_name", "email", "lms_user_id")
#: Bytes of a roster file the kit reads (a class of thousands fits in a few hundred KB).
ROSTER_CAP = 2 << 20
#: Students in one roster.
MAX_STUDENTS = 20_000
#: Characters in one field (nbgrader's columns hold 128).
MAX_FIELD = 128

_DRY = {"added": "would add", "updated": "would update"}
_HINT = "Fix the CSV (a header row with at least `id`, one student per line) and run `make roster` again."


@dataclass
class Roster:
    """The students of a roster file: one dict per student (``id`` plus the fields the file has)."""

    path: str
    students: list[dict[str, str | None]]
    fields: list[str]
    ignored: list[str] = field(default_factory=list)


def read_roster(path: str | os.PathLike[str]) -> Roster:
    """Read and check a roster CSV (UTF-8, a BOM allowed) without touching the gradebook.

    Raises:
        CourseError: The file is missing, too big, has no ``id`` column, a bad or duplicate id,
            a line with extra fields, or a field over :data:`MAX_FIELD` characters.
    """
    name = Path(path).name
    text = read_text_capped(path, ROSTER_CAP, name).removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    if "id" not in header:
        found = ", ".join(h for h in header if h) or "no header"
        raise CourseError(f"{name}: no `id` column (found: {found}).", _HINT)
    if len(set(header)) != len(header):
        raise CourseError(f"{name}: a column name appears twice in the header.", _HINT)
    reader.fieldnames = header
    fields = [h for h in FIELDS if h in header]
    students: list[dict[str, str | None]] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if len(students) >= MAX_STUDENTS:
            raise CourseError(f"{name}: more than {MAX_STUDENTS} students.", "Split the roster, or check the file.")
        if None in row:
            raise CourseError(f"{name}, line {line}: more fields than the header names.", _HINT)
        if not any((v or "").strip() for v in row.values()):
            continue  # a blank line
        student = {"id": _student_id(row.get("id"), name, line)}
        for f in fields:
            student[f] = _field(row.get(f), f, name, line)
        if student["id"] in seen:
            raise CourseError(
                f"{name}, line {line}: student id {student['id']!r} is also on line {seen[student['id']]}.",
                "Each student appears once: remove or fix the duplicate line.",
            )
        seen[str(student["id"])] = line
        students.append(student)
    ignored = [h for h in header if h and h != "id" and h not in FIELDS]
    return Roster(str(path), students, fields, ignored)


def _student_id(value: str | None, name: str, line: int) -> str:
    """A student id from the CSV, refused unless it is a safe folder name the kit grades."""
    sid = (value or "").strip()
    if not sid:
        raise CourseError(f"{name}, line {line}: the id is empty.", _HINT)
    if not SAFE_STUDENT_ID.match(sid) or ".." in sid:
        raise CourseError(
            f"{name}, line {line}: student id {sid!r} cannot be a folder name the kit grades.",
            "Use 1-64 letters, digits, . _ @ - (starting with a letter or digit, no '/', no '..', no spaces); "
            "on a hub, the student's user name.",
        )
    return sid


def _field(value: str | None, column: str, name: str, line: int) -> str | None:
    """One optional field: stripped, ``None`` when empty, refused when longer than :data:`MAX_FIELD`."""
    text = (value or "").strip()
    if len(text) > MAX_FIELD:
        raise CourseError(f"{name}, line {line}: {column} is longer than {MAX_FIELD} characters.", _HINT)
    return text or None


def import_roster(path: str | os.PathLike[str], dirs: CourseDirs | None = None, dry_run: bool = False) -> Any:
    """Add or update every student of the roster in the gradebook (nbgrader's ``update_or_create_student``).

    Students already in the gradebook but not in the roster are left alone (their grades stay). A
    column the file does not have leaves that field as it is; an empty cell clears it.

    Args:
        dry_run: Report what would change, write nothing.

    Returns:
        A DataFrame, one row per student: ``student``, the fields, and ``action``
        (``added``, ``updated``, ``unchanged``; ``would add``/``would update`` with ``dry_run``);
        ``attrs["ignored"]`` lists the file's columns that were not read.
    """
    import pandas as pd

    roster = read_roster(path)
    rows = []
    with open_gradebook(dirs or course_dirs()) as gb:
        known = {s.id: s for s in gb.students}
        for entry in roster.students:
            sid = str(entry["id"])
            fields = {f: entry[f] for f in roster.fields}
            action = _action(known.get(sid), fields)
            if action != "unchanged" and not dry_run:
                gb.update_or_create_student(sid, **fields)
            rows.append({"student": sid, **fields, "action": _DRY.get(action, action) if dry_run else action})
    df = pd.DataFrame(rows, columns=["student", *roster.fields, "action"])
    df.attrs["ignored"] = roster.ignored
    return df


def _action(current: Any, fields: dict[str, str | None]) -> str:
    """``added``, ``updated`` or ``unchanged``: what writing ``fields`` does to the student ``current``."""
    if current is None:
        return "added"
    return "updated" if any(getattr(current, f) != v for f, v in fields.items()) else "unchanged"
