"""Pure logic of the instructor workflow, the sandbox and the prebuilt archives (no engine)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import matplotlib
import nbformat
import pandas as pd
import pytest
from kitroot import TESTS
from nbformat.v4 import new_code_cell, new_notebook

from helpers.cli import build_parser
from helpers.errors import CourseError, ImageNotFound, NotAnImageArchive
from helpers.grading import course, nbgrader_run, submissions
from helpers.grading import facts as grading
from helpers.grading.sandbox import SandboxLimits, merge_outputs, sandbox_command
from helpers.kit import prebuilt

matplotlib.use("Agg")
FIXTURE = TESTS / "fixtures" / "course"


def test_sandbox_command_has_every_limit():
    """Does the sandbox's docker run drop root, network, capabilities and the writable root?"""
    cmd = sandbox_command("img", "n", SandboxLimits(memory="300m", pids=50))
    line = " ".join(cmd)
    for flag in (
        "--network none",
        "--memory 300m",
        "--memory-swap 300m",
        "--pids-limit 50",
        "--read-only",
        "--user 1000:1000",
        "--cap-drop ALL",
        "--security-opt no-new-privileges",
        "--cpus 1.0",
        "--rm",
    ):
        assert flag in line
    assert "-v" not in cmd and "--mount" not in cmd and "--privileged" not in cmd
    assert cmd[-1] == "img"


def test_unknown_sandbox_setting_is_refused():
    """Does a typo in grading.yml's sandbox section fail with the list of valid keys?"""
    with pytest.raises(CourseError, match="memroy"):
        SandboxLimits.from_mapping({"memroy": "1g"})


def _nb(*sources):
    return new_notebook(cells=[new_code_cell(s) for s in sources])


def test_merge_keeps_trusted_sources_and_fails_unrun_cells():
    """Are outputs copied only when cells line up, and does an unrun cell get an error output?"""
    trusted = _nb("x = 1", "assert x == 1")
    executed = _nb("x = 1", "assert x == 1")
    executed.cells[0].execution_count = 1
    executed.cells[0].outputs = [{"output_type": "stream", "name": "stdout", "text": "hi"}]
    merged = merge_outputs(trusted, executed)
    assert merged.cells[0].outputs[0]["text"] == "hi"
    assert merged.cells[1].outputs[0]["output_type"] == "error"  # never executed -> failing, not full marks


def test_merge_refuses_changed_cells():
    """If the sandbox returns different sources, is every cell marked failing?"""
    trusted = _nb("assert add(1, 2) == 3")
    forged = _nb("assert True")
    forged.cells[0].execution_count = 1
    merged = merge_outputs(trusted, forged)
    assert merged.cells[0].source == "assert add(1, 2) == 3"
    assert merged.cells[0].outputs[0]["ename"] == "SandboxError"


def test_merge_with_nothing_back_scores_every_test_as_failing():
    """When the sandbox returns nothing (timeout), does every code cell carry the reason?"""
    merged = merge_outputs(_nb("a", "b"), None, "the notebook ran past 5 s")
    assert all("ran past" in c.outputs[0]["evalue"] for c in merged.cells)


def test_load_spec_reads_limits_and_defaults():
    """Does the fixture lab's grading.yml give its sandbox limits, and a lab without one the defaults?"""
    spec = grading.load_spec("ps1", root=FIXTURE)
    assert spec.limits.timeout == 60 and spec.limits.memory == "512m" and spec.limits.network == "none"
    assert grading.load_spec("no-such-lab", root=FIXTURE) == grading.GradingSpec("no-such-lab")


@pytest.mark.parametrize("key", ["engine", "queries", "prefetch", "rounds"])
def test_grading_yml_refuses_the_removed_in_kernel_mechanisms(tmp_path, key):
    """Is a grading.yml asking for engine facts or trusted queries handed to the kernel refused, naming the key?

    Those let the student's kernel decide a score (a facts file it could rewrite); a lab lists ``verdicts:``.
    """
    (tmp_path / "source" / "x").mkdir(parents=True)
    (tmp_path / "source" / "x" / "grading.yml").write_text(f"{key}: []\nverdicts: [a]\n")
    with pytest.raises(CourseError, match=f"unknown keys.*{key}"):
        grading.load_spec("x", root=tmp_path)


def test_bad_grading_yml_is_a_clear_error(tmp_path):
    """Does an invalid grading.yml name the file?"""
    (tmp_path / "source" / "x").mkdir(parents=True)
    (tmp_path / "source" / "x" / "grading.yml").write_text("build_timeout: soon\n")
    with pytest.raises(CourseError, match="grading.yml"):
        grading.load_spec("x", root=tmp_path)


@pytest.mark.parametrize(
    "sid,ok",
    [
        ("alice", True),
        ("a.b-c_d@uni.edu", True),
        ("mallory smith", False),
        ("../etc", False),
        ("", False),
        ("x" * 80, False),
        ("ève", False),
    ],
)
def test_student_ids(sid, ok):
    """Are only ids that are safe as folder names and in the gradebook accepted?"""
    assert bool(submissions.SAFE_STUDENT_ID.match(sid)) is ok


def test_collect_without_exchange_says_what_to_do(tmp_path):
    """Does collect refuse a missing exchange with a hint, before running nbgrader?"""
    dirs = nbgrader_run.CourseDirs(tmp_path, tmp_path / "nope", "c")
    with pytest.raises(CourseError, match="make release"):
        course.collect("ps1", dirs)


def test_odd_student_id_is_refused_without_touching_the_gradebook(tmp_path):
    """Is a student with an odd id reported before anything is read or written?"""
    dirs = nbgrader_run.CourseDirs(tmp_path, tmp_path / "x", "c")
    problems = course.check_submission("ps1", "bob; rm -rf /", dirs)
    assert "not graded" in problems[0]
    assert not (tmp_path / "gradebook.db").exists()


def test_every_course_step_has_help():
    """Does every `course` sub-command carry help text?"""
    parser = build_parser()
    course_parser = parser._subparsers._group_actions[0].choices["course"]
    steps = course_parser._subparsers._group_actions[0]
    expected = {"roster", "due", "release", "collect", "autograde", "feedback", "grades", "prebuilt", "import-repos"}
    assert set(steps.choices) == expected
    assert all(a.help for a in steps._choices_actions)


def test_score_plot_has_one_column_per_lab():
    """Does the distribution plot draw one labelled column per assignment?"""
    from helpers.grading.plots import plot_score_distribution

    df = pd.DataFrame(
        {"assignment": ["a", "a", "b"], "student_id": ["x", "y", "x"], "score": [1, 2, 0], "max_score": [2, 2, 3]}
    )
    ax = plot_score_distribution(df)
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["a", "b"]


def _pack(tmp_path: Path, data: bytes = b"layers") -> Path:
    (tmp_path / "x.tar").write_bytes(data)
    item = {
        "name": "python-3.11-slim",
        "ref": "course-base/python:3.11-slim",
        "archive": "x.tar",
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "image_id": "sha256:1",
        "layers": 3,
    }
    (tmp_path / "manifest.json").write_text(json.dumps({"created": "now", "images": [item]}))
    return tmp_path


def test_find_archive_by_ref_name_or_part(tmp_path):
    """Can a notebook find an archive by reference, short name or a unique part?"""
    d = _pack(tmp_path)
    for name in ("course-base/python:3.11-slim", "python-3.11-slim", "slim"):
        assert prebuilt.find_archive(name, d, verify=True) == d / "x.tar"
    with pytest.raises(ImageNotFound, match="available: python-3.11-slim"):
        prebuilt.find_archive("redis", d)


def test_find_archive_detects_damage(tmp_path):
    """Is a truncated or altered archive refused, and a missing folder explained?"""
    d = _pack(tmp_path)
    (d / "x.tar").write_bytes(b"layerZ")  # same size, other bytes
    with pytest.raises(NotAnImageArchive, match="checksum"):
        prebuilt.find_archive("slim", d, verify=True)
    (d / "x.tar").write_bytes(b"short")
    with pytest.raises(NotAnImageArchive, match="truncated"):
        prebuilt.find_archive("slim", d)
    with pytest.raises(CourseError, match="make prebuilt"):
        prebuilt.find_archive("slim", tmp_path / "empty")


def test_short_names():
    """Are archive short names derived from the reference?"""
    assert prebuilt.short_name("course-base/python:3.11-slim-bookworm") == "python-3.11-slim-bookworm"
    assert prebuilt.short_name("127.0.0.1:5000/app") == "app-latest"


def test_fixture_notebooks_are_valid():
    """Are the fixture assignments valid notebooks with nbgrader metadata?"""
    for nb_path in FIXTURE.glob("source/*/*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        nbformat.validate(nb)
        assert any(c.metadata.get("nbgrader", {}).get("grade") for c in nb.cells)


def test_merge_leaves_empty_cells_alone():
    """Is an empty code cell (never run by nbclient) left without an error?"""
    merged = merge_outputs(_nb("", "x = 1"), None, "boom")
    assert merged.cells[0].outputs == [] and merged.cells[1].outputs[0]["ename"] == "SandboxError"


def test_nbgrader_runs_with_the_kits_state_dir(tmp_path, monkeypatch):
    """Does a course rooted elsewhere still grade against this kit's engine and registry credentials?"""
    from helpers.paths import state_dir

    monkeypatch.delenv("COURSE_STATE_DIR", raising=False)
    seen = {}

    def fake_run(cmd, **kw):
        seen.update(kw["env"])
        return nbgrader_run.subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(nbgrader_run.subprocess, "run", fake_run)
    nbgrader_run.nbgrader(["list"], nbgrader_run.CourseDirs(tmp_path / "class", tmp_path / "x", "c"))
    assert seen["COURSE_ROOT"] == str(tmp_path / "class")
    assert seen["COURSE_STATE_DIR"] == str(state_dir())
    assert not seen["COURSE_STATE_DIR"].startswith(str(tmp_path))


def _graded_nb(**nbgrader_changes):
    """A small notebook whose test cell carries the given nbgrader metadata changes."""
    nb = _nb("def add(a, b):\n    return a + b", "assert add(1, 2) == 3")
    nb.cells[1].metadata["nbgrader"] = {"grade": True, "grade_id": "test_add", "points": 1, "locked": True}
    nb.cells[1].metadata["nbgrader"].update(nbgrader_changes)
    return nb


@pytest.mark.parametrize(
    "changes,words",
    [
        ({"points": "lots"}, "points that are not a number"),
        ({"points": None}, "points that are not a number"),
        ({"points": True}, "points that are not a number"),
        ({"grade_id": ["a", "b"]}, "grade_id that is not a string"),
        ({"grade_id": {"x": 1}}, "grade_id that is not a string"),
        ({"grade": "yes"}, "flags that are not true/false"),
    ],
)
def test_crafted_nbgrader_metadata_is_named(changes, words):
    """Is each crafted shape of a test cell's metadata reported (nbgrader's own apps would crash on it)?"""
    assert words in submissions._crafted_metadata(_graded_nb(**changes))


def test_metadata_that_is_not_a_mapping_is_named():
    """Are nbgrader metadata that is a string or a list, and a cell without a metadata mapping, reported?"""
    nb = _graded_nb()
    nb.cells[1].metadata["nbgrader"] = "grade everything"
    assert "not a mapping" in submissions._crafted_metadata(nb)
    nb.cells[1].metadata["nbgrader"] = [1, 2]
    assert "not a mapping" in submissions._crafted_metadata(nb)
    nb.cells[1]["metadata"] = "x"
    assert "cell 2 is malformed" in submissions._crafted_metadata(nb)
    nb["cells"] = {"a": 1}
    assert "no list of cells" in submissions._crafted_metadata(nb)
    assert submissions._crafted_metadata(_graded_nb()) == ""


def test_one_students_crash_or_timeout_is_only_that_students_row(monkeypatch, tmp_path):
    """Do a crash while checking one student and a timeout grading another leave the others graded?"""
    dirs = nbgrader_run.CourseDirs(tmp_path, tmp_path / "x", "c")

    def check(assignment, student, dirs):
        if student == "bob":
            raise ValueError("crafted")
        return []

    def run(step, assignment, args, dirs, student="", env=None):
        if student == "carol":
            raise nbgrader_run.subprocess.TimeoutExpired(args, 3600)
        return nbgrader_run.StepReport(step, assignment, student, True)

    monkeypatch.setattr(course, "check_submission", check)
    monkeypatch.setattr(course, "run_step", run)
    rows = course.autograde("ps1", ["alice", "bob", "carol", "dave"], dirs, workers=2, sandbox=False)
    got = {r.student: r for r in rows.itertuples()}
    assert got["alice"].ok and got["dave"].ok
    assert not got["bob"].ok and "ValueError: crafted" in got["bob"].message
    assert not got["carol"].ok and "TimeoutExpired" in got["carol"].message


def test_deleted_read_only_code_cell_blocks_grading():
    """Is a submission that deleted a read-only setup cell refused, while a deleted test cell is only reported?"""
    from types import SimpleNamespace as NS

    from helpers.grading.submissions import _test_cell_problems, blocking

    entry = NS(
        source_cells=[
            NS(name="setup", locked=True, checksum="", cell_type="code"),
            NS(name="intro", locked=True, checksum="", cell_type="markdown"),
            NS(name="test_x", locked=True, checksum="", cell_type="code"),
        ],
        grade_cells=[NS(name="test_x")],
        solution_cells=[],
    )
    nb = NS(cells=[])
    problems = _test_cell_problems("lab.ipynb", nb, entry, {})
    assert blocking(problems)
    assert any("'setup'" in p and "not graded" in p for p in problems)
    assert any("'test_x'" in p and "added back" in p for p in problems)
    assert not any("'intro'" in p for p in problems)
