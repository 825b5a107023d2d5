"""A personal inbound folder per student: ``<exchange>/<course>/inbound/<student>/``, for hubs where every
student is the same OS user.

nbgrader's exchange keeps every submission in one ``inbound/`` folder and hides them from each other with
file modes (write-only for students), which only works when each student is a different OS user. On Zero to
JupyterHub every single-user server runs as uid 1000 (``jovyan``): modes separate nobody. With
``COURSE_EXCHANGE_PERSONALIZED=1`` (read by ``nbgrader_config.py``) nbgrader's submit, collect, list and feedback
steps are these classes (nbgrader's pluggable exchange, ``c.ExchangeFactory``; nbgrader 0.9.6 has no such option of its
own, the e2xgrader add-on has a similar one): each submission goes into the student's own folder, so the hub
can mount only that folder into that student's server. Without such per-user mounts this layout sorts the
work and protects nothing (docs/INSTRUCTOR.md, JupyterHub). ``make release`` creates one folder per student
of the roster (:func:`ensure_personal_inbound`); collect reads both layouts.

Feedback goes the same way: ``release_feedback`` puts each student's pages into ``feedback/<student>/`` and
``fetch_feedback`` looks there first (then in the shared ``feedback/``, where earlier releases are), so the hub
can mount each student's feedback folder alone too.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

from nbgrader.exchange.default import (
    ExchangeCollect,
    ExchangeFetchFeedback,
    ExchangeList,
    ExchangeReleaseFeedback,
    ExchangeSubmit,
)
from nbgrader.exchange.default.collect import groupby
from nbgrader.utils import get_username, notebook_hash

__all__ = [
    "FEEDBACK_MODE",
    "PERSONALIZED_ENV",
    "PersonalFeedbackFetch",
    "PersonalFeedbackRelease",
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
#: Like nbgrader's own ``feedback``: pages are found by their secret name, the folder cannot be listed.
FEEDBACK_MODE = 0o711


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


class PersonalFeedbackRelease(ExchangeReleaseFeedback):
    """``nbgrader release_feedback`` into ``feedback/<student>/`` (each page keeps nbgrader's secret name)."""

    def copy_files(self) -> None:
        shared_src, shared_dest = self.src_path, self.dest_path
        step, assignment = re.escape(self.coursedir.feedback_directory), re.escape(self.coursedir.assignment_id)
        pattern = self.coursedir.format_path(step, "(?P<student>[^/]+)", assignment, escape=True) + "$"
        try:
            for folder in sorted(glob.glob(shared_src)):
                m = re.match(pattern, folder)
                if m is None or "+" in m["student"]:
                    self.log.error("Not a student's feedback folder: %s", folder)
                    continue
                self.src_path = folder
                self.dest_path = os.path.join(shared_dest, m["student"])
                self.ensure_directory(self.dest_path, FEEDBACK_MODE)
                super().copy_files()
        finally:
            self.src_path, self.dest_path = shared_src, shared_dest


class PersonalFeedbackFetch(ExchangeFetchFeedback):
    """``nbgrader fetch_feedback`` from ``feedback/<student>/``, then from the shared ``feedback/``."""

    def init_src(self) -> None:
        super().init_src()  # checks the exchange; finds pages released into the shared folder
        student = self.coursedir.student_id if self.coursedir.student_id != "*" else get_username()
        own = os.path.join(self.outbound_path, student)
        assignment = self.coursedir.assignment_id or "*"
        found = {(nb, ts): path for nb, ts, path in self.feedback_files}
        for submission in glob.glob(os.path.join(self.cache_path, f"*+{assignment}+*")):
            secret = Path(submission, "submission_secret.txt")
            if not secret.is_file():
                continue  # nbgrader < 0.7 submissions: only the shared folder has their pages
            timestamp = os.path.basename(submission).split("+")[-1]
            for notebook in glob.glob(os.path.join(submission, "*.ipynb")):
                notebook_id = Path(notebook).stem
                page = os.path.join(own, f"{notebook_hash(secret=secret.read_text(), notebook_id=notebook_id)}.html")
                if os.path.isfile(page):
                    found[(notebook_id, timestamp)] = page  # a personal page wins over a shared one
        self.feedback_files = [(nb, ts, path) for (nb, ts), path in found.items()]
