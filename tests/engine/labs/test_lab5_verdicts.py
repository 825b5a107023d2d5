"""Lab 5's verdicts on the lab engine, pipeline runs included: the reference and an alternative pass every cell,
the starter fails every cell, each practitioner's wrong answer fails exactly its cells.

Runs ``verdicts()`` directly (as ``self_check`` does), never the grading engine. Pipeline runs are cached per
(Dockerfile, branch): the whole module costs two runs of the reference build and one check of a refused build.
"""

from __future__ import annotations

import shutil

import pytest
from lab5_variants import RIGHT, WRONG, reference

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
