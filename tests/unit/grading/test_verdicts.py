"""The grader's verdicts: files read within bounds, answers read without running them, failures fail closed."""

from __future__ import annotations

import json
import os
import sys
import types

import nbformat
import pytest

from helpers.errors import CourseError
from helpers.grading import verdict_apply, verdicts
from helpers.grading.facts import GradingSpec
from helpers.grading.verdicts import CheckFailed, Submission, Verdict


def _spec(cells=("test_a", "test_b")) -> GradingSpec:
    return GradingSpec("lab9-fake", verdicts=tuple(cells), verdict_timeout=60)


def test_text_reads_files_within_bounds_and_refuses_links(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "big").write_bytes(b"x" * (verdicts.MAX_FILE_BYTES + 1))
    (tmp_path / "link").symlink_to(tmp_path / "Dockerfile")
    (tmp_path / "sub").mkdir()
    sub = Submission(tmp_path / "sub", _spec())
    top = Submission(tmp_path, _spec())
    assert top.text("Dockerfile") == "FROM scratch\n"
    assert top.text("big") is None and top.too_big == ["big"]
    assert top.text("link") is None
    assert top.text("missing") is None
    assert sub.text("../Dockerfile") is None  # never outside the folder


def test_answer_reads_literals_without_running_anything(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("IMAGE_MB = 198\n!docker image ls\nLAYERS = [1, 2]"),
        nbformat.v4.new_code_cell("import os\nPWNED = os.system('touch /tmp/x')\nIMAGE_MB = 150"),
        nbformat.v4.new_code_cell("this is not python ((("),
    ]
    nbformat.write(nb, tmp_path / "lab9-fake.ipynb")
    sub = Submission(tmp_path, _spec())
    assert sub.answer("IMAGE_MB") == 150  # the last one wins
    assert sub.answer("LAYERS") == [1, 2]
    assert sub.answer("PWNED", "none") == "none"  # a call is never evaluated
    assert Submission(tmp_path / "nowhere", _spec()).answer("IMAGE_MB") is None


@pytest.fixture
def fake_lab(monkeypatch):
    mod = types.ModuleType("fake_lab_verdicts")
    monkeypatch.setitem(sys.modules, "fake_lab_verdicts", mod)
    monkeypatch.setitem(verdicts.LAB_MODULES, "lab9-fake", "fake_lab_verdicts")
    return mod


def test_compute_fails_closed(fake_lab, tmp_path):
    fake_lab.verdicts = lambda sub: {"test_a": Verdict(True, "built"), "test_extra": Verdict(True, "x")}
    got = verdicts.compute("lab9-fake", tmp_path, _spec())
    assert got["test_a"].passed and not got["test_b"].passed  # a cell the lab did not decide fails
    assert "test_extra" not in got  # only the cells grading.yml lists

    def boom(sub):
        raise RuntimeError("student file broke the parser")

    fake_lab.verdicts = boom
    got = verdicts.compute("lab9-fake", tmp_path, _spec())
    assert not any(v.passed for v in got.values()) and "RuntimeError" in got["test_a"].said


def test_unknown_lab_is_a_clear_error(tmp_path):
    with pytest.raises(CourseError, match="no graded checks"):
        verdicts._lab_function("not-a-lab")


def test_self_check_raises_checkfailed_with_the_graders_words(fake_lab, tmp_path, monkeypatch):
    monkeypatch.setattr(verdicts, "engine_available", lambda: True)
    monkeypatch.setattr(verdicts, "load_spec", lambda a: _spec())
    (tmp_path / "lab9-fake.ipynb").write_text("{}")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    calls = []
    fake_lab.verdicts = lambda sub: calls.append(1) or {"test_a": Verdict(True, "ok"), "test_b": Verdict(False, "no")}
    verdicts.self_check("test_a", tmp_path)
    with pytest.raises(CheckFailed, match="no"):
        verdicts.self_check("test_b", tmp_path)
    assert len(calls) == 1  # one run per version of the files
    (tmp_path / "Dockerfile").write_text("FROM scratch\nUSER 1000\n")
    verdicts.self_check("test_a", tmp_path)
    assert len(calls) == 2


def test_self_check_without_engine_only_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(verdicts, "engine_available", lambda: False)
    assert verdicts.self_check("test_a", tmp_path) is None
    assert "grader checks this" in capsys.readouterr().out


def test_run_checks_child_failure_scores_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    got = verdict_apply.run_checks(_spec(), tmp_path, {}, tmp_path)  # lab9-fake has no module in a child
    assert set(got) == {"test_a", "test_b"} and not any(v.passed for v in got.values())


def test_annotate_replaces_decided_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("self_check('test_a')")
    cell.metadata["nbgrader"] = {"grade_id": "test_a", "grade": True, "points": 2}
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="forged: passed\n")]
    other = nbformat.v4.new_code_cell("print(1)")
    other.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells = [cell, other]
    path = tmp_path / "lab.ipynb"
    nbformat.write(nb, path)
    verdict_apply._annotate(path, {"test_a": Verdict(False, "the image did not build")})
    out = nbformat.read(path, as_version=4)
    assert "NOT passed" in out.cells[0].outputs[0]["text"] and "did not build" in out.cells[0].outputs[0]["text"]
    assert out.cells[1].outputs[0]["text"] == "1\n"


def test_main_writes_json(fake_lab, tmp_path, monkeypatch):
    fake_lab.verdicts = lambda sub: {"test_a": Verdict(True, "ok"), "test_b": Verdict(False, "no")}
    monkeypatch.setattr(verdicts, "load_spec", lambda a: _spec())
    out = tmp_path / "v.json"
    assert verdicts.main(["lab9-fake", str(tmp_path), str(out)]) == 0
    assert json.loads(out.read_text()) == {
        "test_a": {"passed": True, "said": "ok"},
        "test_b": {"passed": False, "said": "no"},
    }


def test_answer_files_are_graded_as_submitted():
    """Does every lab graded by verdicts name the files its student writes, released as starters, and does
    nbgrader keep them as submitted (its autograde otherwise copies the starters back over them)?"""
    from traitlets.config import Config

    from helpers.grading.facts import load_spec
    from helpers.paths import course_root

    root = course_root()
    config = Config()
    exec((root / "nbgrader_config.py").read_text(), {"get_config": lambda: config, "__file__": str(root / "x.py")})
    kept = config.Autograde.exclude_overwriting
    for lab in verdicts.LAB_MODULES:
        spec = load_spec(lab, root=root)
        assert spec.verdicts and spec.answers, lab
        for name in spec.answers:
            assert (root / "source" / lab / name).is_file() and (root / "release" / lab / name).is_file(), name
        assert kept[lab] == list(spec.answers)
