"""Class operations without the engine: the roster, due dates and late penalties, the per-question grades export."""

from __future__ import annotations

import functools
import shutil
from datetime import datetime
from pathlib import Path

import nbformat
import nbgrader.api
import pandas as pd
import pytest
from kitroot import ROOT
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.cli import main
from helpers.errors import CourseError
from helpers.grading import course, deadlines, roster
from helpers.grading.gradebook import open_gradebook
from helpers.grading.latepenalty import DAY, days_late, late_penalty
from helpers.grading.nbgrader_run import CourseDirs, course_dirs

ROSTER = "id,first_name,last_name,email,section\nalice,Alice,A,alice@example.org,1\nbob,Bob,B,,2\n"


_alembic_head = functools.cache(nbgrader.api.get_alembic_version)


@pytest.fixture(autouse=True)
def _alembic_head_once(monkeypatch):
    """nbgrader runs `alembic heads` (a process, a second or more) each time it opens a gradebook: ask once."""
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", _alembic_head)


def _course(tmp_path: Path, labs: tuple[str, ...] = ("lab",)) -> CourseDirs:
    """An empty course root with the kit's nbgrader_config.py and one notebook per lab in source/."""
    root = tmp_path / "course"
    for lab in labs:
        (root / "source" / lab).mkdir(parents=True)
        nbformat.write(new_notebook(), root / "source" / lab / f"{lab}.ipynb")
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return course_dirs(root, tmp_path / "exchange")


def _csv(tmp_path: Path, text: str, name: str = "students.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- roster ---------------------------------------------------------------------------------------------------


def test_roster_reads_fields_and_ignores_other_columns(tmp_path):
    """Are id and the known fields read (a BOM, blank lines, odd header case), and other columns reported as ignored?"""
    path = _csv(tmp_path, "\ufeffID, First_Name ,last_name,email,section\n\nalice,Alice,A,a@x.org,1\nbob,Bob,B,,2\n")
    r = roster.read_roster(path)
    assert [s["id"] for s in r.students] == ["alice", "bob"]
    assert r.students[0] == {"id": "alice", "first_name": "Alice", "last_name": "A", "email": "a@x.org"}
    assert r.students[1]["email"] is None
    assert r.ignored == ["section"] and "lms_user_id" not in r.fields


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("student,email\nalice,a@x\n", "no `id` column"),
        ("", "no `id` column"),
        ("id,email\nalice,a@x\nbob,b@x\nalice,c@x\n", "line 4: student id 'alice' is also on line 2"),
        ("id\nalice,extra\n", "line 2: more fields than the header"),
        ("id,email\n,a@x\n", "line 2: the id is empty"),
        ("id,email,email\nalice,a,b\n", "appears twice"),
        ("id,first_name\nalice," + "x" * 200 + "\n", "longer than 128"),
    ],
)
def test_bad_roster_is_refused_with_the_line(tmp_path, text, match):
    """Does each malformed roster fail with a message naming the problem (and its line) and a hint?"""
    with pytest.raises(CourseError, match=match) as e:
        roster.read_roster(_csv(tmp_path, text))
    assert e.value.hint


@pytest.mark.parametrize("bad", ["a/b", "..", ".hidden", "a b", "a..b", "../x", "x" * 65, "bob;rm"])
def test_roster_refuses_ids_that_are_not_safe_folder_names(tmp_path, bad):
    """Is an id that would be an odd folder under submitted/ (slash, dots, leading dot, space) refused?"""
    with pytest.raises(CourseError, match="cannot be a folder name") as e:
        roster.read_roster(_csv(tmp_path, f'id\nalice\n"{bad}"\n'))
    assert "line 3" in str(e.value) and "no '/'" in e.value.hint


def test_roster_size_is_bounded(tmp_path, monkeypatch):
    """Are a file over the byte cap and a roster over the student cap refused before anything is written?"""
    monkeypatch.setattr(roster, "ROSTER_CAP", 64)
    with pytest.raises(CourseError, match="larger than"):
        roster.read_roster(_csv(tmp_path, "id\n" + "s\n" * 100))
    monkeypatch.setattr(roster, "ROSTER_CAP", 1 << 20)
    monkeypatch.setattr(roster, "MAX_STUDENTS", 3)
    with pytest.raises(CourseError, match="more than 3 students"):
        roster.read_roster(_csv(tmp_path, "id\n" + "".join(f"s{i}\n" for i in range(4))))


def test_roster_import_round_trip_is_idempotent(tmp_path, capsys):
    """Does `course roster` add, then change nothing, then update one field; does --dry-run write nothing?"""
    dirs = _course(tmp_path)
    path = _csv(tmp_path, ROSTER)
    first = roster.import_roster(path, dirs, dry_run=True)
    assert list(first["action"]) == ["would add", "would add"]
    assert not (dirs.root / "gradebook.db").exists() or not _students(dirs)
    assert list(roster.import_roster(path, dirs)["action"]) == ["added", "added"]
    assert list(roster.import_roster(path, dirs)["action"]) == ["unchanged", "unchanged"]
    assert _students(dirs) == {"alice": ("Alice", "A", "alice@example.org"), "bob": ("Bob", "B", None)}
    path.write_text(ROSTER.replace("bob,Bob,B,,2", "bob,Bob,B,bob@example.org,2"))
    assert list(roster.import_roster(path, dirs, dry_run=True)["action"]) == ["unchanged", "would update"]
    assert _students(dirs)["bob"][2] is None
    assert list(roster.import_roster(path, dirs)["action"]) == ["unchanged", "updated"]
    assert _students(dirs)["bob"] == ("Bob", "B", "bob@example.org")


def test_roster_command_prints_the_table_and_errors_cleanly(tmp_path, monkeypatch, capsys):
    """Does `python -m helpers course roster FILE` print one row per student, and a bad file exit 2 with the hint?"""
    dirs = _course(tmp_path)
    monkeypatch.setenv("COURSE_ROOT", str(dirs.root))
    monkeypatch.setenv("COURSE_EXCHANGE", str(dirs.exchange))
    assert main(["course", "roster", str(_csv(tmp_path, ROSTER))]) == 0
    out = capsys.readouterr().out
    assert "alice" in out and "2 added" in out and "ignored columns: section" in out and "NaN" not in out
    assert main(["course", "roster", str(_csv(tmp_path, "name\nalice\n", "bad.csv"))]) == 2
    err = capsys.readouterr().err
    assert "no `id` column" in err and "make roster" in err


def _students(dirs: CourseDirs) -> dict[str, tuple]:
    with open_gradebook(dirs) as gb:
        return {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}


# --- due dates and the late penalty ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-12-15 23:59 UTC", datetime(2026, 12, 15, 23, 59)),
        ("2026-12-15 23:59 Europe/Berlin", datetime(2026, 12, 15, 22, 59)),
        ("2026-07-15 23:59 Europe/Berlin", datetime(2026, 7, 15, 21, 59)),
        ("2026-12-15T23:59-05:00", datetime(2026, 12, 16, 4, 59)),
        ("2026-12-15 23:59:30Z", datetime(2026, 12, 15, 23, 59, 30)),
    ],
)
def test_due_dates_are_read_in_their_zone(text, utc):
    """Is a due date converted to the UTC nbgrader stores, for named zones, offsets and daylight saving time?"""
    assert deadlines.parse_due(text) == utc


@pytest.mark.parametrize(
    ("text", "match"),
    [("2026-12-15 23:59", "no time zone"), ("2026-12-15 23:59 Mars/Olympus", "Unknown time zone"), ("soon", "not a")],
)
def test_due_date_without_a_known_zone_is_refused(text, match):
    """Is a date without a zone (read in the wrong zone, every student would be hours off) refused with examples?"""
    with pytest.raises(CourseError, match=match) as e:
        deadlines.parse_due(text)
    assert "Europe/Berlin" in e.value.hint


def test_set_due_writes_the_gradebook_and_lists_it(tmp_path):
    """Does `make due` store the date on the assignment, list it, clear it with none, and refuse an unknown lab?"""
    dirs = _course(tmp_path, ("lab1", "lab2"))
    assert deadlines.set_due("lab1", "2026-12-15 23:59 UTC", dirs) == datetime(2026, 12, 15, 23, 59)
    with open_gradebook(dirs) as gb:
        assert gb.find_assignment("lab1").duedate == datetime(2026, 12, 15, 23, 59)
    table = deadlines.due_dates(dirs).set_index("assignment")
    assert table.loc["lab1", "due_utc"] == pd.Timestamp("2026-12-15 23:59") and pd.isna(table.loc["lab2", "due_utc"])
    assert deadlines.set_due("lab1", "none", dirs) is None
    with pytest.raises(CourseError, match="No assignment 'lab9'"):
        deadlines.set_due("lab9", "2026-12-15 23:59 UTC", dirs)
    with pytest.raises(CourseError, match="not a due date"):
        deadlines.set_due("lab1", "", dirs)


@pytest.mark.parametrize(
    ("score", "max_score", "seconds", "penalty"),
    [
        (15, 20, 0, 0),  # on time
        (15, 20, 1, 2),  # one second late: a started day
        (15, 20, DAY, 2),  # exactly one day
        (15, 20, 26 * 3600, 4),  # 2 started days: 2 x 10% of 20
        (15, 20, 5 * DAY, 10),
        (15, 20, 10 * DAY, 15),  # capped at the score
        (0, 20, 3 * DAY, 0),  # nothing to take
        (3, 3, 2 * DAY, 0.6),  # 2 x 10% of 3
    ],
)
def test_late_penalty_arithmetic(score, max_score, seconds, penalty):
    """Is the penalty 10% of the notebook's maximum per started day late, never more than the score?"""
    assert late_penalty(score, max_score, seconds) == pytest.approx(penalty)


def test_grace_period_and_days_late():
    """Is a submission within the grace minutes on time, and one past it late by a whole day?"""
    assert days_late(600, grace_minutes=15) == 0 and days_late(1000, grace_minutes=15) == 1
    assert late_penalty(10, 10, 600, percent_per_day=25, grace_minutes=15) == 0
    assert late_penalty(10, 10, 3 * DAY + 1, percent_per_day=25) == 10


def _gradebook(dirs: CourseDirs, students: dict[str, str | None], due: str | None = "2026-12-01 12:00 UTC") -> None:
    """A gradebook as release + autograde leave it: lab/lab.ipynb with an autograded test worth 2 and a
    hand-graded answer worth 3, and one submission per student (timestamp or None: nothing submitted)."""
    with open_gradebook(dirs) as gb:
        gb.update_or_create_assignment("lab", duedate=deadlines.parse_due(due) if due else None)
        gb.add_notebook("lab", "lab")
        gb.add_grade_cell("test_a", "lab", "lab", max_score=2, cell_type="code")
        gb.add_solution_cell("a", "lab", "lab")
        gb.add_grade_cell("explain", "lab", "lab", max_score=3, cell_type="markdown")
        gb.add_solution_cell("explain", "lab", "lab")
        for sid, stamp in students.items():
            gb.update_or_create_student(sid, first_name=sid.title())
            if stamp is not None:
                gb.add_submission("lab", sid, timestamp=stamp)
                gb.find_grade("test_a", "lab", "lab", sid).auto_score = 2
                gb.find_grade("test_a", "lab", "lab", sid).needs_manual_grade = False
        gb.db.commit()
    nb = new_notebook(cells=[new_markdown_cell("x", metadata={"nbgrader": {"grade_id": "explain"}})])
    nb.cells.insert(0, new_code_cell("t", metadata={"nbgrader": {"grade_id": "test_a"}}))
    nbformat.write(nb, dirs.root / "source" / "lab" / "lab.ipynb")


def test_nbgrader_applies_the_configured_late_penalty(tmp_path):
    """Does nbgrader's AssignLatePenalties, configured by the kit's nbgrader_config.py, load the kit's plugin
    and store its penalty for a late submission (and none for one on time)?"""
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config.loader import PyFileConfigLoader

    dirs = _course(tmp_path)
    # due 2026-12-01 12:00 UTC: alice 3 h early, bob 30 h late (2 started days), carol 40 days late
    stamps = {"alice": "2026-12-01 09:00:00 UTC", "bob": "2026-12-02 18:00:00 UTC", "carol": "2027-01-10 12:00 UTC"}
    _gradebook(dirs, stamps)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(dirs.root)).load_config()
    assert config.AssignLatePenalties.plugin_class == "helpers.grading.latepenalty.DailyLatePenalty"
    penalties = {}
    for sid in stamps:
        pre = AssignLatePenalties(config=config)
        resources = {"nbgrader": {"notebook": "lab", "assignment": "lab", "student": sid, "db_url": _url(dirs)}}
        pre.preprocess(new_notebook(), resources)
        assert type(pre.plugin_inst).__name__ == "DailyLatePenalty"
        with open_gradebook(dirs) as gb:
            penalties[sid] = gb.find_submission_notebook("lab", "lab", sid).late_submission_penalty
    # bob: 2 days x 10% of the notebook's 5 points = 1 point; carol: capped at her score of 2
    assert penalties == {"alice": None, "bob": pytest.approx(1.0), "carol": pytest.approx(2.0)}


def _url(dirs: CourseDirs) -> str:
    from helpers.grading.gradebook import gradebook_url

    return gradebook_url(dirs)


# --- grades export with a column per question ----------------------------------------------------------------


def test_grades_export_has_a_column_per_question_and_manual_scores(tmp_path):
    """Does `make grades` keep nbgrader's columns, add one per graded cell (with a formgrader manual score), leave
    unsubmitted work empty, apply the late penalty to the final scores, and write the questions' maxima beside it?"""
    dirs = _course(tmp_path)
    stamps = {"alice": "2026-12-01 09:00 UTC", "bob": "2026-12-02 18:00 UTC", "carol": "2027-01-10 12:00 UTC"}
    _gradebook(dirs, {**stamps, "zoe": None})  # due 2026-12-01 12:00 UTC; bob 2 days late, carol 40
    with open_gradebook(dirs) as gb:  # what formgrader's grade API (PUT /formgrader/api/grade/<id>) does
        for sid, points in (("alice", 2.5), ("carol", 3.0)):
            grade = gb.find_grade("explain", "lab", "lab", sid)
            grade.manual_score, grade.extra_credit = points, None
            grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        gb.find_grade("test_a", "lab", "lab", "carol").auto_score = 0  # autograde: 0, so its penalty was capped at 0
        gb.db.commit()
    csv = tmp_path / "out" / "grades.csv"
    csv.parent.mkdir()
    df = course.grades(csv, dirs).set_index("student_id")
    on_disk = pd.read_csv(csv, dtype={"student_id": str}).set_index("student_id")
    for col in ("assignment", "timestamp", "raw_score", "late_submission_penalty", "score", "max_score"):
        assert col in on_disk.columns  # nbgrader's own columns are kept
    assert list(on_disk.columns[-3:]) == ["needs_manual_grade", "lab:test_a", "lab:explain"]
    assert on_disk.loc["alice", "lab:explain"] == 2.5 and on_disk.loc["alice", "lab:test_a"] == 2
    assert on_disk.loc["alice", "score"] == 4.5 and on_disk.loc["alice", "needs_manual_grade"] == 0
    assert on_disk.loc["alice", "late_submission_penalty"] == 0
    assert on_disk.loc["bob", "lab:explain"] == 0 and on_disk.loc["bob", "needs_manual_grade"] == 1
    assert on_disk.loc["bob", "late_submission_penalty"] == 1.0  # 2 days x 10% of the notebook's 5 points
    assert on_disk.loc["bob", "score"] == 1.0
    assert on_disk.loc["carol", "late_submission_penalty"] == 3.0 and on_disk.loc["carol", "score"] == 0
    assert pd.isna(on_disk.loc["zoe", "lab:test_a"]) and on_disk.loc["zoe", "needs_manual_grade"] == 0
    assert df.loc["alice", "lab:explain"] == 2.5
    key = pd.read_csv(course.questions_csv(csv))
    assert course.questions_csv(csv).name == "grades-questions.csv"
    assert key.to_dict("records") == [
        {"column": "lab:test_a", "assignment": "lab", "notebook": "lab", "grade_id": "test_a", "max_score": 2.0,
         "graded_by": "auto"},
        {"column": "lab:explain", "assignment": "lab", "notebook": "lab", "grade_id": "explain", "max_score": 3.0,
         "graded_by": "manual"},
    ]  # fmt: skip


def test_penalties_follow_a_changed_due_date(tmp_path):
    """When the due date moves after autograde, does the next `make grades` drop or add penalties to match?"""
    dirs = _course(tmp_path)
    _gradebook(dirs, {"bob": "2026-12-02 18:00 UTC"})
    assert deadlines.reapply_late_penalties(dirs) == 1
    assert deadlines.reapply_late_penalties(dirs) == 0  # nothing left to change
    deadlines.set_due("lab", "2026-12-03 12:00 UTC", dirs)  # an extension for the class
    assert deadlines.reapply_late_penalties(dirs) == 1
    with open_gradebook(dirs) as gb:
        assert gb.find_submission_notebook("lab", "lab", "bob").late_submission_penalty is None
    with (dirs.root / "nbgrader_config.py").open("a") as f:
        f.write('c.AssignLatePenalties.plugin_class = "helpers.grading.latepenalty.NoSuchPlugin"\n')
    with pytest.raises(CourseError, match="late-penalty plugin") as e:
        deadlines.reapply_late_penalties(dirs)
    assert "plugin_class" in e.value.hint


@pytest.mark.slow
def test_kit_autograde_applies_the_late_penalty_and_manual_grades_reach_the_export(tmp_path):
    """A late submission with a free-text answer: does the kit's autograde (nbgrader in its own process, here
    without the sandbox) apply nbgrader_config.py's penalty and leave the answer for a grader, and does the
    grader's formgrader score reach `make grades`?"""
    from course_fixture import FIXTURE, make_course, submit_notebook

    assert course.SANDBOX_PREPROCESSORS.index("nbgrader.preprocessors.AssignLatePenalties") > (
        course.SANDBOX_PREPROCESSORS.index("nbgrader.preprocessors.SaveAutoGrades")
    )  # the sandboxed autograde applies it too, once the scores are saved
    source = tmp_path / "source"
    shutil.copytree(FIXTURE / "source" / "ps1", source / "ps1")
    nb = nbformat.read(source / "ps1" / "ps1.ipynb", as_version=4)
    meta = {"grade": True, "solution": True, "locked": False, "points": 2, "grade_id": "explain", "schema_version": 3}
    nb.cells.append(new_markdown_cell("YOUR ANSWER HERE", metadata={"nbgrader": meta}))
    nbformat.write(nb, source / "ps1" / "ps1.ipynb")
    dirs, base = make_course(("ps1",), source=source)
    try:
        nb.cells[-1].source = "Because the cache is keyed on the instruction and its inputs."
        submit_notebook(dirs, "ps1", "late", nb)  # timestamp 2026-01-01 00:00 UTC
        deadlines.set_due("ps1", "2025-12-31 12:00 UTC", dirs)  # 12 hours late: one started day
        rows = course.autograde("ps1", dirs=dirs, sandbox=False)
        assert rows["ok"].all(), rows.to_string()
        with open_gradebook(dirs) as gb:  # then a grader scores the answer: formgrader's grade API, as above
            grade = gb.find_grade("explain", "ps1", "ps1", "late")
            assert grade.needs_manual_grade and grade.auto_score is None  # left for the grader
            assert gb.find_grade("test_add_hidden", "ps1", "ps1", "late").auto_score == 2
            grade.manual_score, grade.needs_manual_grade = 1.5, False
            gb.db.commit()
        after = course.grades(dirs.root / "grades.csv", dirs).set_index("student_id")
        assert after.loc["late", "ps1:explain"] == 1.5 and after.loc["late", "needs_manual_grade"] == 0
        # 10% of the notebook's 6 points for one day (taken off the autograded 4 at autograde time)
        assert after.loc["late", "late_submission_penalty"] == pytest.approx(0.6)
        assert after.loc["late", "score"] == pytest.approx(4 + 1.5 - 0.6)
    finally:
        shutil.rmtree(base, ignore_errors=True)
