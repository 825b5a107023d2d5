"""Unit tests for helpers.ci.workflowfile's bounds: a student's workflow is read without aliases and under a cap."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers.bounded import YAML_CAP
from helpers.ci.workflowfile import load_workflow, workflow_steps
from helpers.errors import ConfigFileError
from helpers.paths import course_root
from tests.unit.test_bounded import ALIAS_BOMB


def test_alias_bomb_workflow_is_refused_fast():
    """Is a workflow carrying the ~550-byte alias bomb refused in well under a second, naming its line?"""
    text = "name: x\non: push\n" + ALIAS_BOMB + "\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps: []\n"
    start = time.perf_counter()
    with pytest.raises(ConfigFileError) as e:
        load_workflow(text)
    assert time.perf_counter() - start < 0.5
    assert e.value.line == 3 and "alias" in str(e.value)


def test_anchored_step_is_refused(tmp_path: Path):
    """Is an anchor reused between jobs refused, with the file's name and the anchor's line?"""
    f = tmp_path / "ci.yml"
    f.write_text("on: push\njobs:\n  a:\n    steps:\n      - &s {run: echo hi}\n  b:\n    steps:\n      - *s\n")
    with pytest.raises(ConfigFileError) as e:
        load_workflow(f)
    assert e.value.line == 5 and str(f) in str(e.value)


def test_oversized_workflow_is_refused(tmp_path: Path):
    """Is a workflow file over the YAML cap refused (as a path and as text)?"""
    f = tmp_path / "big.yml"
    f.write_text("on: push\njobs: {}\n" + "#" * YAML_CAP)
    with pytest.raises(ConfigFileError, match="larger than"):
        load_workflow(f)
    with pytest.raises(ConfigFileError, match="larger than"):
        load_workflow(f.read_text())


def test_ordinary_workflow_still_loads_with_lines():
    """Does the repository's workflow still load, with on: as a key and each step's line?"""
    doc = load_workflow(course_root() / ".github/workflows/sample-app.yml")
    steps = workflow_steps(doc)
    assert "on" in doc and steps and all(s.line > 0 for s in steps)
