"""Lab 1 and the shrink activity graded by verdicts, without an engine: the files, the cells, the early verdicts."""

from __future__ import annotations

import json

import pytest
from kitroot import ROOT

from helpers.grading.facts import load_spec
from helpers.grading.labs import lab1, shrink
from helpers.grading.verdicts import Submission

#: lab -> (its verdicts module, grade_id -> points, as before the move to verdicts)
LABS = {
    "lab1-build-basics": (
        lab1,
        {
            "test_image_builds": 2,
            "test_health_answers": 2,
            "test_cmd_exec_form": 1,
            "test_documented_port": 1,
            "test_tests_pass_inside": 2,
            "test_good_habits": 2,
        },
    ),
    "activity-shrink-image": (shrink, {"dockerfile_parses": 1, "dockerfile_passes_ci": 4}),
}


def _graded_cells(folder, lab: str) -> dict[str, dict]:
    nb = json.loads((ROOT / folder / lab / f"{lab}.ipynb").read_text())
    return {
        c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
    }


@pytest.mark.parametrize("lab", list(LABS))
def test_grading_yml_lists_the_self_check_cells_with_their_points(lab):
    """Are the module's cells the grading.yml verdicts, each a locked self-check cell with its points kept?"""
    module, points = LABS[lab]
    spec = load_spec(lab, root=ROOT)
    assert set(spec.verdicts) == set(module.GRADE_IDS) == set(points)
    for folder in ("source", "release"):
        cells = _graded_cells(folder, lab)
        for gid, pts in points.items():
            src = "".join(cells[gid]["source"])
            assert cells[gid]["metadata"]["nbgrader"]["points"] == pts and cells[gid]["metadata"]["nbgrader"]["locked"]
            assert src.rstrip().endswith(f'self_check("{gid}")') and src.startswith('"""'), (folder, gid)


@pytest.mark.parametrize("lab", list(LABS))
def test_starter_is_released_unchanged_and_is_not_the_reference(lab):
    """Is the starter Dockerfile released as it is, and different from the reference answer?"""
    starter = (ROOT / "source" / lab / "Dockerfile").read_text()
    assert (ROOT / "release" / lab / "Dockerfile").read_text() == starter
    assert starter != (ROOT / "tests" / "data" / "labs" / lab / "reference" / "Dockerfile").read_text()
    assert not (ROOT / "release" / lab / "grading.yml").exists()


def _sub(tmp_path, lab: str, text: str | None) -> Submission:
    if text is not None:
        (tmp_path / "Dockerfile").write_text(text)
    return Submission(tmp_path, load_spec(lab, root=ROOT))


@pytest.mark.parametrize("lab", list(LABS))
@pytest.mark.parametrize(
    "text, words",
    [(None, "No Dockerfile"), ("  \n", "No Dockerfile"), ("FROM x\nRUNN pip install\n", "does not parse")],
)
def test_missing_or_broken_dockerfile_fails_every_cell_without_a_build(tmp_path, lab, text, words):
    """Does a missing, empty or unparsable Dockerfile fail every cell, saying why, before any engine work?"""
    module, points = LABS[lab]
    got = module.verdicts(_sub(tmp_path, lab, text))
    assert set(got) == set(points) and not any(v.passed for v in got.values())
    assert all(words in v.said for v in got.values()), got


def test_lab1_dockerfile_without_from_fails_every_cell(tmp_path):
    """Does a Dockerfile with no FROM (an ARG only) fail every cell with words, not an exception?"""
    got = lab1.verdicts(_sub(tmp_path, "lab1-build-basics", "ARG BASE_IMAGE=python:3.12\n"))
    assert not any(v.passed for v in got.values()) and "no FROM" in got["test_image_builds"].said


def test_shrink_starter_fails_both_cells_without_a_build(tmp_path):
    """Is the wasteful starter, as released, refused as unchanged (no engine needed to say so)?"""
    starter = (ROOT / "source" / "activity-shrink-image" / "Dockerfile").read_text()
    got = shrink.verdicts(_sub(tmp_path, "activity-shrink-image", starter))
    assert not any(v.passed for v in got.values()) and all("unchanged" in v.said for v in got.values())
