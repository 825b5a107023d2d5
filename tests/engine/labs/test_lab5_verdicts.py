"""Lab 5's verdicts on the lab engine, pipeline runs included: the reference and an alternative pass every cell,
the starter fails every cell, each practitioner's wrong answer fails exactly its cells.

Runs ``verdicts()`` directly (as ``self_check`` does), never the grading engine. Each workflow's own steps are
replayed (cached per workflow text and branch): a feature-branch and a main run per answer, the builds from cache.
"""

from __future__ import annotations

import shutil

import pytest
from lab5_variants import RIGHT, SAYS, WRONG, reference

from helpers.grading.facts import load_spec
from helpers.grading.labs import lab5
from helpers.grading.verdicts import Submission
from helpers.paths import course_root

pytestmark = [pytest.mark.engine, pytest.mark.slow]

LAB = "lab5-automate-builds"


@pytest.fixture(scope="module")
def spec():
    return load_spec(LAB)


def _verdicts(tmp_path, spec, workflow: str | None, answers: bool = True) -> dict:
    """Verdicts for a lab folder: the source (answers) or release (starter) notebook, and ``workflow``."""
    folder = tmp_path / LAB
    shutil.copytree(course_root() / ("source" if answers else "release") / LAB, folder)
    if workflow is not None:
        (folder / lab5.WORKFLOW).write_text(workflow)
    return lab5.verdicts(Submission(folder, spec))


def test_reference_passes_every_cell(tmp_path, spec):
    """Does the reference workflow pass all seven cells, its pipeline runs included?"""
    got = _verdicts(tmp_path, spec, reference())
    assert set(got) == set(spec.verdicts)
    assert all(v.passed for v in got.values()), {c: v.said for c, v in got.items() if not v.passed}
    assert "3 tests" in got["test_pipeline_feature"].said


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_other_correct_answers_pass_every_cell(tmp_path, spec, name):
    """Does a correct workflow written another way (buildx, build-push-action, env-passed sha) pass every cell?"""
    got = _verdicts(tmp_path, spec, RIGHT[name]())
    assert all(v.passed for v in got.values()), {c: v.said for c, v in got.items() if not v.passed}


def test_starter_fails_every_cell(tmp_path, spec):
    """Does the released starter, with the release notebook's stubs, fail every cell (and say why)?"""
    got = _verdicts(tmp_path, spec, None, answers=False)
    assert set(got) == set(spec.verdicts)
    assert not any(v.passed for v in got.values()), {c: v.said for c, v in got.items() if v.passed}
    assert "no `docker build" in got["test_pipeline_feature"].said


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_answer_fails_exactly_its_cells(tmp_path, spec, name):
    """Does each practitioner's wrong workflow fail exactly the cells it should, the pipeline cells included?"""
    make, fails = WRONG[name]
    got = _verdicts(tmp_path, spec, make())
    failed = {c for c, v in got.items() if not v.passed}
    assert failed == fails, {c: v.said for c, v in got.items()}
    if name in SAYS:
        assert SAYS[name] in got["test_pipeline_feature"].said, got["test_pipeline_feature"].said


def test_replay_is_labelled_scoped_and_torn_down(engine):
    """Does a replay use run-scoped names, remove all it created, and report what the workflow left behind?"""
    text = reference().replace("          docker rm -f app || true\n", "")
    report = lab5.graded_pipeline(text, "feature/lab5", client=engine)
    assert report.ok and report.tests_ran and report.left_behind == ["app"], report.text()
    label = {"label": f"org.dockercourse.pipeline={report.run_id}"}
    assert engine.containers.list(all=True, filters=label) == [] and engine.networks.list(filters=label) == []
    assert not engine.images.list(name=f"course-kit/replay-{report.run_id}/sample-app")
    assert any(n.startswith("waited for health of app (step 'Wait until the app is healthy'") for n in report.notes)
