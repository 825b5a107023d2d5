"""A personal inbound folder per student: ``<exchange>/<course>/inbound/<student>/``, for hubs where every
student is the same OS user.

nbgrader's exchange keeps every submission in one ``inbound/`` folder and hides them from each other with
file modes (write-only for students), which only works when each student is a different OS user. On Zero to
JupyterHub every single-user server runs as uid 1000 (``jovyan``): modes separate nobody. With
``COURSE_EXCHANGE_PERSONALIZED=1`` (read by ``nbgrader_config.py``) nbgrader's submit, collect and list are
these classes (nbgrader's pluggable exchange, ``c.ExchangeFactory``; nbgrader 0.9.6 has no such option of its
own, the e2xgrader add-on has a similar one): each submission goes into the student's own folder, so the hub
can mount only that folder into that student's server. Without such per-user mounts this layout sorts the
work and protects nothing (docs/INSTRUCTOR.md, JupyterHub). ``make release`` creates one folder per student
of the roster (:func:`ensure_personal_inbound`); collect reads both layouts.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from nbgrader.exchange.default import ExchangeCollect, ExchangeList, ExchangeSubmit
from nbgrader.exchange.default.collect import groupby

__all__ = [
    "PERSONALIZED_ENV",
    "PersonalInboundCollect",
    "PersonalInboundList",
    "PersonalInboundSubmit",
    "ensure_personal_inbound",
    "personalized",
]

#: Set to 1 (or true, yes) for a personal inbound folder per student.
PERSONALIZED_ENV = "COURSE_EXCHANGE_PERSONALIZED"
#: Like nbgrader's own ``inbound``: the instructor lists it, students may only write into it.
INBOUND_MODE = 0o733


def personalized() -> bool:
    """Is the personal inbound layout switched on (``COURSE_EXCHANGE_PERSONALIZED``)?"""
    return os.environ.get(PERSONALIZED_ENV, "").strip().lower() in ("1", "true", "yes")


def ensure_personal_inbound(inbound: Path, students: list[str]) -> list[Path]:
    """Create ``inbound/<student>/`` for each student (mode :data:`INBOUND_MODE`); return the new folders."""
    made = []
    for student in students:
        folder = inbound / student
        if not folder.is_dir():
            folder.mkdir(parents=True)
            os.chmod(folder, INBOUND_MODE)
            made.append(folder)
    return made


class PersonalInboundSubmit(ExchangeSubmit):
    """``nbgrader submit`` into ``inbound/<student>/`` (the folder must exist: the instructor or the hub makes it)."""

    def init_dest(self) -> None:
        super().init_dest()  # checks inbound/, names the submission <student>+<assignment>+<time>+<random>
        student = self.assignment_filename.rsplit("+", 3)[0]
        own = os.path.join(self.inbound_path, student)
        if not os.path.isdir(own):
            self.fail(
                f"Your inbound folder {own} does not exist. Ask your instructor: `make release` creates one per "
                "student of the roster (or the hub mounts it)."
            )
        self.inbound_path = own


def _submission_paths(inbound: str, student: str, assignment: str) -> list[tuple[str, str]]:
    """(path, name relative to ``inbound``) of each submission: flat ones and those in the student's own folder.

    A folder's submissions count only when they carry the folder's name (another name is ignored: nbgrader's
    collect would file it under a student who did not make it)."""
    found = [(p, os.path.basename(p)) for p in glob.glob(os.path.join(inbound, f"{student}+{assignment}+*"))]
    for own in sorted(glob.glob(os.path.join(inbound, student))):
        name = os.path.basename(own)
        if "+" in name or not os.path.isdir(own):
            continue
        for p in glob.glob(os.path.join(own, f"{glob.escape(name)}+{assignment}+*")):
            found.append((p, f"{name}/{os.path.basename(p)}"))
    return found


class PersonalInboundCollect(ExchangeCollect):
    """``nbgrader collect`` from ``inbound/<student>/`` folders and from the flat ``inbound/`` alike."""

    def init_src(self) -> None:
        super().init_src()  # checks the course and reads the due date
        student = self.coursedir.student_id or "*"
        records = []
        for path, rel in _submission_paths(self.inbound_path, student, self.coursedir.assignment_id):
            record = self._path_to_record(path)
            records.append(dict(record, filename=rel))
        groups = groupby(records, lambda item: item["username"])
        newest = [self._sort_by_timestamp(v) for v in groups.values()]
        if self.duedate is None or not self.before_duedate:
            self.src_records = [v[0] for v in newest]
        else:
            self.src_records = [next((r for r in v if r["timestamp"] <= self.duedate), v[0]) for v in newest]


class PersonalInboundList(ExchangeList):
    """``nbgrader list --inbound`` that also sees ``inbound/<student>/`` folders."""

    def init_dest(self) -> None:
        super().init_dest()
        if self.inbound:
            course = self.coursedir.course_id or "*"
            student = self.coursedir.student_id or "*"
            assignment = self.coursedir.assignment_id or "*"
            nested = glob.glob(os.path.join(self.root, course, "inbound", student, f"{student}+{assignment}+*"))
            self.assignments = sorted(self.assignments + nested)

    def parse_assignment(self, assignment: str) -> dict:
        if self.inbound:  # inbound/<student>/<name> reads as inbound/<name>
            parent, name = os.path.split(assignment)
            if os.path.basename(os.path.dirname(parent)) == "inbound":
                assignment = os.path.join(os.path.dirname(parent), name)
        return super().parse_assignment(assignment)
