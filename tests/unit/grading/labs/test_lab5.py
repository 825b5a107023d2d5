"""Lab 5's verdicts from the workflow file alone (no engine): the reference passes, wrong answers fail their cells."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from lab5_variants import RIGHT, WRONG, build_push_action, reference

from helpers.ci.replayplan import Build, build_from_workflow
from helpers.ci.workflowfile import load_workflow, workflow_steps
from helpers.ci.workflowsec import (
    cleanup_problems,
    expressions,
    gate_problems,
    injections,
    permission_problems,
    security_review,
    unpinned_actions,
)
from helpers.errors import CourseError
from helpers.grading.facts import load_spec
from helpers.grading.labs import lab5
from helpers.grading.verdicts import GradingRefused, Submission
from helpers.paths import course_root

LAB = "lab5-automate-builds"
STATIC = ("test_triggers", "test_build_and_tests", "test_push_and_secrets", "test_yaml_error_line")


def _no_pipeline(*args, **kwargs):
    raise CourseError("no engine in unit tests")


@pytest.fixture
def submit(tmp_path, monkeypatch):
    """A lab folder with the source notebook's answers and the given workflow text (pipelines refused)."""
    monkeypatch.setattr(lab5, "graded_pipeline", _no_pipeline)

    def make(workflow: str | None, answers: bool = True) -> dict:
        folder = tmp_path / LAB
        shutil.rmtree(folder, ignore_errors=True)
        kind = "source" if answers else "release"
        shutil.copytree(course_root() / kind / LAB, folder)
        if workflow is not None:
            (folder / lab5.WORKFLOW).write_text(workflow)
        else:
            (folder / lab5.WORKFLOW).unlink()
        return lab5.verdicts(Submission(folder, load_spec(LAB)))

    return make


def test_reference_passes_every_static_cell(submit):
    """Does the reference workflow, with the reference answers, pass every cell that needs no engine?"""
    got = submit(reference())
    assert set(got) == set(load_spec(LAB).verdicts)
    assert all(got[c].passed for c in STATIC), {c: got[c].said for c in STATIC}
    assert not got["test_pipeline_feature"].passed and "no engine" in got["test_pipeline_feature"].said


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_other_correct_answers_pass(submit, name):
    """Does a correct workflow written another way (buildx, build-push-action, env-passed sha) pass the same cells?"""
    got = submit(RIGHT[name]())
    assert all(got[c].passed for c in STATIC), {c: got[c].said for c in STATIC}


def test_starter_and_missing_file_fail_every_cell(submit):
    """Does the released starter (no answers) fail every cell, and a deleted workflow fail without raising?"""
    starter = (course_root() / "source" / LAB / lab5.WORKFLOW).read_text()
    for got in (submit(starter, answers=False), submit(None, answers=False)):
        assert not any(v.passed for v in got.values()), {c: v.said for c, v in got.items() if v.passed}
    assert "missing" in submit(None)["test_triggers"].said


@pytest.mark.parametrize("name", sorted(WRONG))
def test_each_wrong_answer_fails_its_static_cells_only(submit, name):
    """Does each practitioner's wrong workflow fail exactly its cells among those that need no engine?"""
    make, fails = WRONG[name]
    got = submit(make())
    failed = {c for c in STATIC if not got[c].passed}
    assert failed == fails & set(STATIC), {c: got[c].said for c in STATIC}


def test_hostile_yaml_is_a_failed_verdict_not_an_error(submit):
    """Does an alias bomb or a broken file fail every workflow cell with the parser's words, never raise?"""
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b]\njobs: {}\n'
    for text in (bomb, lab5.BROKEN_WORKFLOW, "[]", "\x00"):
        got = submit(text)
        assert not got["test_triggers"].passed and not got["test_pipeline_feature"].passed
        assert got["test_yaml_error_line"].passed  # the answers do not depend on the workflow


def test_wrong_answers_to_the_measured_questions_fail(submit, tmp_path):
    """Do the measured answers fail when wrong (the parser's line, not the mistake's; another stage)?"""
    got = submit(reference())
    folder = tmp_path / LAB
    nb = nbformat.read(folder / f"{LAB}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "yaml_error_line")
    cell.source = "YAML_ERROR_LINE = 4\nYAML_MISTAKE_LINE = 4\n"
    nb.cells.append(nbformat.v4.new_code_cell('FAILED_STAGE = "tear down"\n'))
    nbformat.write(nb, folder / f"{LAB}.ipynb")
    got = lab5.verdicts(Submission(folder, load_spec(LAB)))
    assert not got["test_yaml_error_line"].passed and "YAML_ERROR_LINE = 4" in got["test_yaml_error_line"].said
    assert not got["test_summarize"].passed and "tear down" in got["test_summarize"].said


def _doc(text: str):
    doc = load_workflow(text)
    return doc, workflow_steps(doc)


def test_permissions_rules():
    """Least privilege: nothing written at the top, no write-all, only packages/id-token/attestations on a job."""
    assert permission_problems(_doc(reference())[0]) == []
    assert "write-all" in permission_problems(_doc(_top("permissions: write-all"))[0])[0]
    top_write = _doc(_top("permissions:\n  packages: write"))[0]
    assert "every job" in permission_problems(top_write)[0]
    none = _doc("on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: 'true'}]\n")[0]
    assert "no `permissions:`" in permission_problems(none)[0]
    contents = _doc("on: push\npermissions: {}\njobs:\n  a:\n    permissions: {contents: write}\n    steps: []\n")[0]
    assert "contents" in permission_problems(contents)[0]


def _top(permissions: str) -> str:
    """The reference with another workflow-level ``permissions:``."""
    return reference().replace("permissions:\n  contents: read\n\njobs:", permissions + "\n\njobs:")


def test_injection_pins_gate_and_cleanup_rules():
    """Each rule names what it found; safe forms (env, secrets, SHA pins, local actions) pass."""
    doc, steps = _doc(
        "on: push\njobs:\n  a:\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - uses: ./local\n"
        "      - uses: actions/setup-python@0123456789abcdef0123456789abcdef01234567\n"
        "      - run: echo ${{ github.head_ref }} ${{ secrets.X }} ${{ github.head_ref }}\n"
        "        env: {A: '${{ github.sha }}'}\n"
        "      - run: docker push x:$GITHUB_SHA\n        if: github.event_name == 'push'\n"
    )
    assert [e for _, e in injections(steps)] == ["github.head_ref"]
    assert unpinned_actions(doc, steps) == ["actions/checkout@v4"]
    assert len(gate_problems(doc, steps)) == 1 and len(cleanup_problems(steps)) == 2
    assert len(security_review(doc)) == 1 + 1 + 1 + 1 + 2  # permissions, injection, pin, gate, clean-up x2


def test_expressions_scan_is_linear_and_exact():
    """Are expressions found exactly, and does an unclosed flood cost linear time?"""
    assert expressions("a ${{ x }} b ${{y}}c ${{ z") == ["x", "y"]
    assert expressions("${{" * 100_000) == []


def test_the_grader_decides_every_graded_cell_of_the_notebook():
    """Does grading.yml list exactly the source notebook's graded cells, with the points they had (14), and no query?"""
    nb = nbformat.read(course_root() / "source" / LAB / f"{LAB}.ipynb", as_version=4)
    graded = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    spec = load_spec(LAB)
    assert set(spec.verdicts) == set(graded) and sum(graded.values()) == 14
    assert all("self_check(" in c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))


def test_build_push_action_names_the_build():
    """Does the plan read a docker/build-push-action step's context and file as the build to run?"""
    dockerfile, context = build_from_workflow(build_push_action(), root=course_root())
    assert dockerfile == course_root() / "release/lab2-improve-dockerfile/Dockerfile"
    assert context == course_root() / "sample_python_app"


@pytest.mark.parametrize(
    ("dockerfile", "context", "said"),
    [
        ("release/lab2-improve-dockerfile/Dockerfile", "helpers", "only sample_python_app is graded"),
        ("/etc/passwd", "sample_python_app", "not one the grader builds"),
        ("../../etc/Dockerfile", "sample_python_app", "not one the grader builds"),
    ],
)
def test_a_workflow_building_something_else_is_refused_before_any_build(dockerfile, context, said):
    """Does the grader refuse (GradingRefused, no engine touched) a build step (its -f and context as written)
    naming another context or a Dockerfile outside the sample app and the kit's references, and run only the
    lab's branches?"""
    assert lab5._graded_build(Build("sample_python_app", "release/lab2-improve-dockerfile/Dockerfile"))
    with pytest.raises(GradingRefused, match=said):
        lab5._graded_build(Build(context, dockerfile))
    with pytest.raises(GradingRefused, match="not one the lab grades"):
        lab5.graded_pipeline(None, "release/evil")
