"""Personal inbound folders (``COURSE_EXCHANGE_PERSONALIZED=1``, helpers/grading/exchange.py): the layout for a hub
where every student is the same OS user, run with nbgrader's real apps.

Two students under this test's own uid (as on Zero to JupyterHub, where all are uid 1000) fetch and submit with
the hub image's nbgrader settings (helpers/data/hub/nbgrader_config.py): each submission lands in the student's
own ``inbound/<student>/``; nbgrader's collect and ``nbgrader list --inbound`` find both; the kit's collect
(``make collect``) collects both and refuses a submission filed in another student's folder; ``make feedback``
releases each page into ``feedback/<student>/`` and each student fetches their own. No engine needed.
"""

from __future__ import annotations

import shutil

import pytest
from course_fixture import make_course
from kitroot import ROOT
from students import Student

from helpers.grading import course, feedback, nbgrader_run, roster
from helpers.grading.exchange import FEEDBACK_MODE, INBOUND_MODE, PERSONALIZED_ENV

pytestmark = pytest.mark.slow  # nbgrader's apps, about 100 s in all

STUDENTS = ("ada", "grace")
HUB_CONFIG = ROOT / "helpers" / "data" / "hub" / "nbgrader_config.py"


@pytest.fixture(scope="module")
def hub():
    mp = pytest.MonkeyPatch()
    mp.setenv(PERSONALIZED_ENV, "1")
    dirs, base = make_course(("ps1",))
    (base / "roster.csv").write_text("id,first_name\n" + "".join(f"{s},{s.title()}\n" for s in STUDENTS))
    roster.import_roster(base / "roster.csv", dirs)
    rows = course.release(["ps1"], dirs)
    env = {PERSONALIZED_ENV: "1", "PYTHONPATH": str(ROOT), "COURSE_EXCHANGE": str(dirs.exchange)}
    students = {sid: Student(sid, base / "homes", dirs.exchange, env=env) for sid in (*STUDENTS, "stranger")}
    for s in students.values():
        shutil.copy(HUB_CONFIG, s.home / "nbgrader_config.py")  # as /etc/jupyter/nbgrader_config.py on the hub
    yield dirs, students, rows
    mp.undo()
    shutil.rmtree(base, ignore_errors=True)


def _submit(s: Student) -> None:
    s.fetch("ps1")
    s.answer("ps1", {"add": "def add(a, b):\n    return a + b"})
    proc = s.submit("ps1")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_release_makes_one_inbound_folder_per_student_of_the_roster(hub):
    dirs, _students, rows = hub
    inbound = dirs.exchange / dirs.course_id / "inbound"
    assert rows["ok"].all(), rows.to_string()
    assert sorted(p.name for p in inbound.iterdir()) == sorted(STUDENTS)
    assert all((inbound / s).stat().st_mode & 0o777 == INBOUND_MODE for s in STUDENTS)


def test_each_submission_lands_in_its_students_own_folder(hub):
    dirs, students, _rows = hub
    inbound = dirs.exchange / dirs.course_id / "inbound"
    for sid in STUDENTS:
        _submit(students[sid])
    for sid in STUDENTS:
        mine = list((inbound / sid).iterdir())
        assert len(mine) == 1 and mine[0].name.startswith(f"{sid}+ps1+"), mine
        assert (mine[0] / "ps1.ipynb").is_file()
    assert not [p for p in inbound.iterdir() if "+" in p.name]  # nothing in the shared folder itself


def test_a_student_without_a_folder_cannot_submit(hub):
    """Without inbound/<student>/ (not on the roster), does submit stop with a message instead of writing elsewhere?"""
    dirs, students, _rows = hub
    s = students["stranger"]
    s.fetch("ps1")
    proc = s.submit("ps1")
    assert proc.returncode != 0 and "make release" in proc.stdout + proc.stderr
    assert not (dirs.exchange / dirs.course_id / "inbound" / "stranger").exists()


def test_nbgrader_list_and_collect_find_both(hub):
    """Do nbgrader's own apps (the course's nbgrader_config.py) see both personal folders?"""
    dirs, _students, _rows = hub
    listed = nbgrader_run.nbgrader(["list", "--inbound"], dirs)
    assert listed.returncode == 0, listed.stderr
    for sid in STUDENTS:
        assert f"{dirs.course_id} {sid} ps1" in listed.stdout + listed.stderr
    proc = nbgrader_run.nbgrader(["collect", "ps1"], dirs)
    assert proc.returncode == 0, proc.stderr
    for sid in STUDENTS:
        assert (dirs.root / "submitted" / sid / "ps1" / "ps1.ipynb").is_file()
    shutil.rmtree(dirs.root / "submitted")


def test_the_kits_collect_takes_both_and_refuses_a_misfiled_one(hub):
    """Does ``make collect`` collect each student's own submission, and refuse one filed in another's folder?"""
    dirs, _students, _rows = hub
    inbound = dirs.exchange / dirs.course_id / "inbound"
    ada = next((inbound / "ada").iterdir())
    planted = inbound / "grace" / "ada+ps1+2099-01-01 00:00:00.000000 UTC+x"  # newer than ada's own
    shutil.copytree(ada, planted)
    rows = course.collect("ps1", dirs)
    collect = rows[rows["step"] == "collect"]
    refused = collect[~collect["ok"]]
    assert len(refused) == 1 and "in grace's inbound folder but names ada" in refused["message"].iloc[0]
    checks = rows[rows["step"] == "check"]
    assert sorted(checks["student"]) == sorted(STUDENTS), rows.to_string()
    for sid in STUDENTS:
        stamp = (dirs.root / "submitted" / sid / "ps1" / "timestamp.txt").read_text()
        assert not stamp.startswith("2099"), sid  # the planted, newer one was not taken


def test_feedback_goes_to_each_students_own_folder_and_back(hub):
    """After grading, does ``make feedback`` put each page into ``feedback/<student>/`` only, and does each student's
    ``fetch_feedback`` bring back their own page (and not the other's)?"""
    dirs, students, _rows = hub
    graded = course.autograde("ps1", dirs=dirs, workers=1, sandbox=False)
    assert graded["ok"].all(), graded.to_string()
    rows = feedback.feedback("ps1", dirs)
    assert rows["ok"].all(), rows.to_string()
    outbound = dirs.exchange / dirs.course_id / "feedback"
    assert not list(outbound.glob("*.html"))  # nothing in the shared folder itself
    for sid in STUDENTS:
        pages = list((outbound / sid).glob("*.html"))
        assert len(pages) == 1 and (outbound / sid).stat().st_mode & 0o777 == FEEDBACK_MODE, pages
    for sid in STUDENTS:
        proc = students[sid].nbgrader("fetch_feedback", "ps1", f"--student={sid}")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        fetched = list((students[sid].home / dirs.course_id / "ps1" / "feedback").glob("*/ps1.html"))
        assert len(fetched) == 1, proc.stdout + proc.stderr
        assert fetched[0].read_bytes() == next((outbound / sid).glob("*.html")).read_bytes()
