"""A shared JupyterHub exchange: two student accounts (two OS uids) fetch and submit, the instructor collects.

Runs nbgrader's real apps; as root it switches uid for each student, as a hub's single-user servers do.
No engine needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from ci_rules import unavailable
from course_fixture import make_course
from students import Student

from helpers.grading import course

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _root():
    if os.geteuid() != 0:
        unavailable("switching to student uids needs root (CI runs as root)")


UIDS = {"hubstudent1": 23001, "hubstudent2": 23002}


@pytest.fixture(scope="module")
def hub():
    dirs, base = make_course(("ps1",))
    os.chmod(base / "exchange", 0o777)
    students = {sid: Student(sid, base / "homes", dirs.exchange, uid=uid) for sid, uid in UIDS.items()}
    os.chmod(base / "homes", 0o755)
    yield dirs, students
    shutil.rmtree(base, ignore_errors=True)


def test_two_accounts_fetch_submit_and_are_collected(hub):
    """Can two accounts fetch and submit through one exchange, and does collect get both?"""
    dirs, students = hub
    for sid, s in students.items():
        folder = s.fetch("ps1")
        assert (folder / "ps1.ipynb").stat().st_uid == UIDS[sid]  # the student owns the fetched copy
        s.answer("ps1", {"add": "def add(a, b):\n    return a + b"})
        proc = s.nbgrader("submit", "ps1", f"--student={sid}")
        assert proc.returncode == 0, proc.stderr
    rows = course.collect("ps1", dirs)
    assert rows["ok"].iloc[0], rows.to_string()
    for sid in UIDS:
        assert (dirs.root / "submitted" / sid / "ps1" / "ps1.ipynb").exists()


def test_a_student_cannot_list_or_read_anothers_submission(hub):
    """Is the inbound folder write-only for students (no listing, so no copying a classmate's work)?"""
    dirs, students = hub
    inbound = dirs.exchange / dirs.course_id / "inbound"
    mode = inbound.stat().st_mode & 0o777
    assert mode & 0o004 == 0 and mode & 0o003 == 0o003  # others: write + search, no read
    spy = students["hubstudent2"]
    proc = subprocess.run(
        ["ls", str(inbound)], user=spy.uid, group=spy.uid, extra_groups=[], capture_output=True, text=True
    )
    assert proc.returncode != 0 and "Permission denied" in proc.stderr


def test_a_student_cannot_release_assignments(hub):
    """Can a student write into the outbound folder (and so replace the assignment)? It must not."""
    dirs, students = hub
    outbound = dirs.exchange / dirs.course_id / "outbound" / "ps1"
    s = students["hubstudent1"]
    proc = subprocess.run(
        ["touch", str(outbound / "evil.ipynb")],
        user=s.uid,
        group=s.uid,
        extra_groups=[],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and not (outbound / "evil.ipynb").exists()
