"""Unit tests for helpers.ci.pipeline (no engine)."""

from __future__ import annotations

import pytest

from helpers.ci.pipeline import build_from_workflow
from helpers.ci.pipelinereport import PipelineReport, Stage
from helpers.errors import CourseError
from helpers.paths import course_root


def test_build_step_gives_dockerfile_and_context():
    """Are `-f` and the context of the workflow's docker build read, relative to the repository root?"""
    dockerfile, context = build_from_workflow(course_root() / ".github/workflows/sample-app.yml")
    assert dockerfile == course_root() / "tests/data/labs/lab2-improve-dockerfile/reference/Dockerfile"
    assert dockerfile.is_file()
    assert context == course_root() / "sample_python_app"


def test_default_dockerfile_is_in_the_context(tmp_path):
    """Without -f, is <context>/Dockerfile used, with options that take values skipped?"""
    wf = "on: push\njobs:\n  a:\n    steps:\n      - run: docker build --build-arg X=1 -t app:ci --target rt app\n"
    assert build_from_workflow(wf, root=tmp_path) == (tmp_path / "app/Dockerfile", tmp_path / "app")


def test_workflow_without_build_step_is_refused():
    """Is a workflow with no docker build step refused with a hint?"""
    with pytest.raises(CourseError, match="docker build"):
        build_from_workflow("on: push\njobs:\n  a:\n    steps:\n      - run: echo hi\n")


def test_report_exit_code_and_text():
    """Is the exit status 1 as soon as one stage fails, and does the text say which?"""
    ok = PipelineReport([Stage("build app image", True, 1.0)], test_log="== 3 passed in 0.1s ==")
    bad = PipelineReport([Stage("build app image", True, 1.0), Stage("wait healthy", False, 9.0, "unhealthy")])
    assert ok.exit_code == 0 and "tests: 3 passed" in ok.text()
    assert bad.exit_code == 1 and "FAIL  wait healthy" in bad.text() and "exit status 1" in bad.text()
    assert PipelineReport().exit_code == 1  # nothing ran is not a success
