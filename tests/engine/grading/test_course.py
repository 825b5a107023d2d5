"""The instructor workflow end to end: several students, a shared exchange, sandboxed autograding."""

from __future__ import annotations

import html
import json
import re
import shutil

import pytest
from course_fixture import make_course, scores
from students import Student

from helpers.engine.client import LABEL, SESSION_LABEL, session_id
from helpers.grading import course, nbgrader_run

pytestmark = [pytest.mark.engine, pytest.mark.slow]

GOOD = {"add": "def add(a, b):\n    return a + b", "greet": 'def greet(name):\n    return f"hello {name}"'}
WRONG_ADD = {"add": "def add(a, b):\n    return a * b", "greet": GOOD["greet"]}


@pytest.fixture(scope="module")
def graded(engine):
    dirs, base = make_course(("ps1",))
    homes = base / "homes"
    students = {
        sid: Student(sid, homes, dirs.exchange)
        for sid in ("alice", "bob", "carol", "dave", "erin", "mallory smith", "frank", "gina")
    }
    for s in students.values():
        s.fetch("ps1")
    students["alice"].answer("ps1", GOOD)
    students["bob"].answer("ps1", WRONG_ADD)
    # carol submits a wrong answer, then resubmits a right one: the last submission counts
    students["carol"].answer("ps1", WRONG_ADD)
    assert students["carol"].submit("ps1").returncode == 0
    collected_first = course.collect("ps1", dirs)
    students["carol"].answer("ps1", GOOD)
    # dave answers add only, and rewrites the greet test to pass and be worth 100 points
    students["dave"].answer("ps1", {"add": GOOD["add"], "test_greet": "assert True"})
    nb_path = students["dave"].home / "docker-cicd" / "ps1" / "ps1.ipynb"
    nb = json.loads(nb_path.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_greet":
            cell["metadata"]["nbgrader"]["points"] = 100
    nb_path.write_text(json.dumps(nb))
    # erin submits something that is not a notebook
    (students["erin"].home / "docker-cicd" / "ps1" / "ps1.ipynb").write_text("this is not JSON {")
    students["mallory smith"].answer("ps1", GOOD)
    for sid in ("frank", "gina"):
        students[sid].answer("ps1", GOOD)
    for s in students.values():
        proc = s.submit("ps1")
        assert proc.returncode == 0, proc.stderr
    # frank writes a link to the gradebook into his inbound folder (students can write there)
    [frank_inbound] = (dirs.exchange / dirs.course_id / "inbound").glob("frank+ps1+*")
    (frank_inbound / "grades.db").symlink_to(dirs.root / "gradebook.db")
    collected = course.collect("ps1", dirs)
    # a link placed in submitted/ after collect (gina's folder) must be refused before nbgrader copies it
    (dirs.root / "submitted" / "gina" / "ps1" / "leak").symlink_to("../../../source", target_is_directory=True)
    result = course.autograde("ps1", dirs=dirs)
    feedback = course.feedback("ps1", dirs)
    yield dirs, students, collected_first, collected, result, feedback
    shutil.rmtree(base, ignore_errors=True)


def test_collect_reports_each_problem_on_its_students_row(graded):
    """Does collect name each bad submission, and only on that student's row?"""
    _, _, _, collected, _, _ = graded
    msg = {r.student: r.message for r in collected.itertuples() if r.step == "check"}
    assert "not a notebook" in msg["erin"]
    assert "test_greet" in msg["dave"] and "changed" in msg["dave"]
    assert "characters" in msg["mallory smith"]
    ok = {r.student: r.ok for r in collected.itertuples() if r.step == "check"}
    for sid in ("alice", "bob", "carol"):  # fake students under one OS account: the owner check is noted, not failed
        assert ok[sid] and msg[sid] in ("", f"owner not checked: no OS account named {sid!r}")


def test_collect_refuses_a_link_in_the_inbound_folder(graded):
    """Is frank's submission (a link to the gradebook in his inbound folder) refused, naming the file?"""
    dirs, _, _, collected, _, _ = graded
    [row] = [r for r in collected.itertuples() if r.step == "collect" and r.student == "frank"]
    assert not row.ok and "'grades.db'" in row.message
    assert not (dirs.root / "submitted" / "frank").exists()


def test_a_link_added_after_collect_is_refused_at_autograde(graded):
    """Is gina's link in submitted/ refused at autograde with nothing of hers copied to autograded/?"""
    dirs, _, _, _, result, _ = graded
    rows = {r.student: r for r in result.itertuples()}
    assert not rows["gina"].ok and "'leak'" in rows["gina"].message
    assert not (dirs.root / "autograded" / "gina").exists()


def test_scores_are_right_for_every_student(graded):
    """Are good, wrong, resubmitted and tampered submissions scored as they deserve?"""
    dirs, *_ = graded
    got = scores(dirs, "ps1")
    assert got["alice"] == 4.0
    assert got["bob"] == 1.0  # only greet; add(0, 0) == 0 passes but the hidden test fails the cell
    assert got["carol"] == 4.0  # the resubmission replaced the first one
    assert got["dave"] == 3.0  # the real greet test was restored and failed; 100 points ignored
    assert "erin" not in got and "mallory smith" not in got and "frank" not in got and "gina" not in got


def test_bad_submissions_are_reported_not_graded(graded):
    """Do the unreadable and odd-id submissions fail with a clear message while the rest succeed?"""
    _, _, _, _, result, _ = graded
    rows = {r.student: r for r in result.itertuples()}
    assert not rows["erin"].ok and "not a notebook" in rows["erin"].message
    assert not rows["mallory smith"].ok and "rename" in rows["mallory smith"].message
    assert all(rows[s].ok for s in ("alice", "bob", "carol", "dave"))


def test_feedback_hides_hidden_tests(graded):
    """Does the feedback a student fetches keep the hidden test's code and message out?"""
    _, students, _, _, _, feedback = graded
    assert feedback["ok"].all(), feedback.to_string()
    proc = students["bob"].nbgrader("fetch_feedback", "ps1")
    assert proc.returncode == 0, proc.stderr
    pages = [p.read_text() for p in students["bob"].home.rglob("*.html")]
    assert pages, "bob received no feedback"
    text = html.unescape(re.sub(r"<[^>]+>", "", "".join(pages)))
    assert "add(0, 0)" in text  # the visible test is there
    assert "SECRET-HIDDEN-CHECK" not in text and "add(-1, 1)" not in text


def test_first_collect_saw_the_first_submission(graded):
    """Did the first collect pick carol's first submission (so the update really replaced it)?"""
    _, _, first, _, _, _ = graded
    assert "carol" in set(first["student"])


def test_no_sandbox_container_is_left(graded, engine):
    """Are the throwaway grading containers gone once autograde returns?"""
    left = engine.containers.list(all=True, filters={"label": [f"{LABEL}=true", f"{SESSION_LABEL}={session_id()}"]})
    assert [c.name for c in left if c.name.startswith("course-sandbox-")] == []


def test_missing_exchange_is_a_clear_error(graded):
    """Does collecting from an exchange that does not exist say so and what to do?"""
    dirs, *_ = graded
    gone = nbgrader_run.CourseDirs(dirs.root, dirs.root / "no-such-exchange", dirs.course_id)
    with pytest.raises(course.CourseError, match="does not exist"):
        course.collect("ps1", gone)
