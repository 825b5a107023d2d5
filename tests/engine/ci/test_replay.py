"""Engine tests for helpers.ci.replayrun: the worked example's own steps replayed, jobs, gates and pushes included."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers.ci.replayplan import Build, read_plan
from helpers.ci.replayrun import replay
from helpers.ci.workflowfile import load_workflow
from helpers.errors import CourseError
from helpers.paths import DATA_DIR, course_root

pytestmark = pytest.mark.engine

SHA = "feedc0de" * 5
WORKFLOW = course_root() / ".github/workflows/sample-app.yml"


def _inside_the_kit(build: Build):
    """The builds the worked example names, resolved in the kit's checkout (nothing outside it)."""
    root = course_root().resolve()
    df, ctx = (p.resolve() for p in build.paths(root))
    if root not in ctx.parents or root not in df.parents:
        raise CourseError(f"{build.context!r} is outside the kit")
    return df, ctx


def _replay(engine, branch: str, text: str | None = None):
    text = text or WORKFLOW.read_text()
    plan = read_plan(load_workflow(text), branch, SHA, text=text)
    return replay(plan, _inside_the_kit, DATA_DIR / "sample_app" / "test.Dockerfile", client=engine)


def test_worked_example_replays_both_jobs_on_main_and_pushes_the_sha(engine):
    """As a push to main, do both jobs run (the second gated by its job `if:`), the tests pass, the sha tag get
    pushed to the grader's registry, and nothing of the run stay behind?"""
    report = _replay(engine, "main")
    assert report.ok and report.tests_ran and report.tests_ok, report.text()
    assert "3 passed" in report.test_log and report.left_behind == []
    assert report.pushed.endswith(f"/course-student/sample-app:{SHA}")
    label = {"label": f"org.dockercourse.pipeline={report.run_id}"}
    assert engine.containers.list(all=True, filters=label) == [] and engine.networks.list(filters=label) == []


def test_a_pull_request_skips_the_push_job(engine):
    """As a pull request, is the push job skipped by its `if:` and nothing pushed?"""
    report = _replay(engine, "feature/x")
    assert report.ok and report.pushed == "", report.text()
    assert any(s.name == "job push" and s.detail.startswith("skipped") for s in report.stages)


def test_a_refused_workflow_runs_nothing(engine):
    """Does a workflow with a refused line create nothing and say which step and part?"""
    text = WORKFLOW.read_text().replace("docker logs app || true", "docker logs app | sh")
    report = _replay(engine, "feature/x", text)
    assert not report.ok and report.stages[0].name == "read the workflow"
    assert "step 'App logs'" in report.refused[0] and "| sh" in report.refused[0]


def test_the_pipeline_command_replays_the_workflow_as_the_grader_does(engine, tmp_path):
    """Typed as a student types it, does `python -m helpers pipeline --workflow FILE` replay the workflow's own
    steps: the worked example passes, and the same workflow with its tests pointed at a wrong host fails?"""
    wrong = tmp_path / "wrong-host.yml"
    wrong.write_text(WORKFLOW.read_text().replace("http://app:8000", "http://wronghost:8000"))
    assert "wronghost" in wrong.read_text()
    for workflow, code in ((WORKFLOW, 0), (wrong, 1)):
        proc = subprocess.run(
            [sys.executable, "-m", "helpers", "pipeline", "--workflow", str(workflow)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=course_root(),
        )
        assert "Replaying the steps of" in proc.stdout, proc.stdout + proc.stderr
        assert (proc.returncode == 0) == (code == 0), proc.stdout + proc.stderr
        assert ("pipeline passed" if code == 0 else "pipeline FAILED") in proc.stdout
