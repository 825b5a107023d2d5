"""Engine tests for helpers.ci.pipeline: the local CI pipeline on the real engine."""

from __future__ import annotations

import pytest

from helpers.ci.pipeline import run_pipeline
from helpers.ci.replayplan import build_from_workflow
from helpers.paths import course_root

pytestmark = pytest.mark.engine


def _leftovers(engine, run_id):
    label = {"label": f"org.dockercourse.pipeline={run_id}"}
    return engine.containers.list(all=True, filters=label) + engine.networks.list(filters=label)


def test_feature_branch_pipeline_passes_and_cleans_up(engine):
    """Does the worked example's pipeline pass on a feature branch, push nothing and leave nothing running?"""
    dockerfile, context = build_from_workflow(course_root() / ".github/workflows/sample-app.yml")
    report = run_pipeline(context, dockerfile, branch="feature/x", client=engine)
    assert report.exit_code == 0, report.text()
    assert "3 passed" in report.test_log
    assert report.pushed == "" and report.stage("push (main only)").detail.startswith("skipped")
    assert '"msg": "started"' in report.app_log
    assert _leftovers(engine, report.run_id) == []
    assert not engine.images.list(name=report.image)


def test_unhealthy_app_fails_with_its_stage_and_is_torn_down(engine):
    """When the app cannot reach its database, does the run exit 1 at the health stage and still tear down?"""
    report = run_pipeline(
        branch="main",
        health_timeout=30,
        client=engine,
        app_env={"DATABASE_URL": "postgresql://x:y@db.invalid:5432/none"},
    )
    assert report.exit_code == 1
    failed = [s.name for s in report.stages if not s.ok]
    assert failed == ["wait healthy"]
    assert report.stages[-1].name == "tear down" and report.pushed == ""
    assert "Traceback" in report.app_log or "db.invalid" in report.app_log
    assert _leftovers(engine, report.run_id) == []


def test_main_branch_pushes_a_versioned_tag(engine):
    """On main, is the image pushed to the local registry under the version given?"""
    from helpers.engine.registry import registry_status

    if not registry_status()["login_ok"]:
        pytest.fail("The local registry does not answer; run `python -m helpers env up`.")
    report = run_pipeline(branch="main", version="ci-test-1", client=engine)
    assert report.exit_code == 0, report.text()
    assert report.pushed.endswith("/sample-app:ci-test-1")
    assert not engine.images.list(name=report.pushed.rsplit(":", 1)[0])  # the local push tag is removed
