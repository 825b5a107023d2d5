"""docs/INSTRUCTOR.md's term "On one machine", run for real: every line of its block, in order, as typed.

The block is read from the document (:mod:`terms`), so the test runs what the document says. The course is a
throwaway one holding one real lab, ``activity-infra-cost`` (graded in the sandbox on the grading engine, no image
build: the cheapest lab to grade); every line that names the document's lab names it instead. ``make`` runs in the
checkout with ``COURSE_ROOT``/``COURSE_EXCHANGE`` pointing at the throwaway course; a relative ``FILE=`` is that
course's. The students' lines run as two students (``ada`` hands in the full answer, ``bob`` the release as
fetched). Only ``make lab`` is not run: it serves JupyterLab until stopped (manual grading in formgrader is
tested by ``tests/unit/grading/test_classops.py`` and ``tests/engine/kit/test_browser.py``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

import nbformat
import pandas as pd
import pytest
from course_fixture import make_course
from kitroot import ROOT
from students import Student
from terms import blocks

from helpers.paths import state_dir

pytestmark = [pytest.mark.engine, pytest.mark.slow]

LAB = "activity-infra-cost"
DOC_LAB = "lab1-build-basics"
STUDENTS = ("ada", "bob")
#: Lines not run, and why.
NOT_RUN = {"make lab": "serves JupyterLab until stopped"}


def _lines() -> list[list[str]]:
    found = blocks()
    (platform,) = [p for p in found if p.startswith("On one machine")]
    return [shlex.split(ln.replace(DOC_LAB, LAB)) for ln in found[platform]]


@pytest.fixture(scope="module")
def term():
    """Run the block; yield the course dirs and each line's completed process (``None``: not run)."""
    dirs, base = make_course((LAB,), source=ROOT / "source", prefix="course-term-")
    shutil.rmtree(dirs.exchange)  # a new course: `make release` creates the exchange
    shutil.rmtree(dirs.root / "release")
    (dirs.root / "students.csv").write_text("id,first_name,last_name\nada,Ada,Lovelace\nbob,Bob,Barker\n")
    env = {
        **os.environ,
        "COURSE_ROOT": str(dirs.root),
        "COURSE_EXCHANGE": str(dirs.exchange),
        "COURSE_STATE_DIR": str(state_dir()),  # the checkout's engine, registry and grading engine
    }
    students = {s: Student(s, base / "homes", dirs.exchange) for s in STUDENTS}
    ran = []
    for argv in _lines():
        if " ".join(argv) in NOT_RUN:
            ran.append((argv, None))
        elif argv[0] == "make":
            ran.append((argv, _make(argv, dirs.root, env)))
        else:
            ran.extend((argv, p) for p in _students(argv, students, dirs.root))
    yield dirs, students, ran
    shutil.rmtree(base, ignore_errors=True)


def _make(argv: list[str], course: os.PathLike, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One ``make`` line in the checkout, its relative ``FILE=`` resolved in the course."""
    args = [f"FILE={os.path.join(course, a[5:])}" if a.startswith("FILE=") else a for a in argv[1:]]
    return subprocess.run(["make", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def _solutions() -> dict[str, str]:
    """grade_id -> the source notebook's answer, as a student types it into the released cell (no markers)."""
    nb = nbformat.read(ROOT / "source" / LAB / f"{LAB}.ipynb", as_version=4)
    marker = re.compile(r"^\s*#{3} (BEGIN|END) SOLUTION\s*$")
    return {
        c.metadata["nbgrader"]["grade_id"]: "\n".join(ln for ln in c.source.splitlines() if not marker.match(ln))
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def _students(argv: list[str], students: dict[str, Student], course) -> list[subprocess.CompletedProcess[str]]:
    """A students' ``nbgrader`` line, run by each student (ada answers before she submits; bob does not)."""
    assert argv[0] == "nbgrader", argv
    done = []
    for sid, s in students.items():
        if argv[1] == "submit" and sid == "ada":
            s.answer(LAB, _solutions())
        extra = [f"--student={sid}"] if argv[1] in ("submit", "fetch_feedback") else []
        done.append(s.nbgrader(*argv[1:], *extra))
    return done


def test_every_line_of_the_term_ran_and_succeeded(term):
    """Did each line of the block (but ``make lab``) exit 0?"""
    _, _, ran = term
    assert [" ".join(a) for a, p in ran if p is None] == list(NOT_RUN)
    failed = [(" ".join(a), p.stdout[-1500:] + p.stderr[-1500:]) for a, p in ran if p and p.returncode]
    assert not failed, failed


def test_the_roster_and_the_due_date_are_in_the_gradebook(term):
    from nbgrader.api import Gradebook

    dirs, _, _ = term
    with Gradebook(f"sqlite:///{dirs.root / 'gradebook.db'}", dirs.course_id) as gb:
        assert sorted(s.id for s in gb.students) == sorted(STUDENTS)
        assert gb.find_student("ada").last_name == "Lovelace"
        assert gb.find_assignment(LAB).duedate is not None


def test_grades_score_the_answer_and_not_the_release(term):
    """Does ``make grades`` give ada every point and bob none?"""
    dirs, _, _ = term
    df = pd.read_csv(dirs.root / "grades.csv")
    got = {r.student_id: (r.score, r.max_score) for r in df[df["assignment"] == LAB].itertuples()}
    assert got["ada"][0] == got["ada"][1] > 0 and got["bob"][0] == 0, got
    assert (dirs.root / "grades-questions.csv").is_file()


def test_each_student_fetched_their_own_feedback(term):
    dirs, students, _ = term
    for sid, s in students.items():
        pages = list((s.home / dirs.course_id / LAB / "feedback").glob(f"*/{LAB}.html"))
        assert len(pages) == 1, sid
