"""The Codespaces definition: valid against the dev container schema, and what students need is in it."""

from __future__ import annotations

import json

import jsonschema
import pytest
from kitroot import ROOT

SCHEMA = ROOT / "tests" / "fixtures" / "devcontainer" / "devContainer.base.schema.json"
CONFIG = ROOT / ".devcontainer" / "devcontainer.json"


def _validator():
    return jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text()))


def test_devcontainer_json_is_valid():
    """Does .devcontainer/devcontainer.json pass the dev container base schema?"""
    errors = list(_validator().iter_errors(json.loads(CONFIG.read_text())))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize(
    "bad", [{"forwardPorts": ["not a port"]}, {"image": 3}, {"waitFor": "never"}, {"hostRequirements": {"cpus": 0}}]
)
def test_schema_rejects_broken_configs(bad):
    """Can the vendored schema fail (so the test above means something)?"""
    config = {**json.loads(CONFIG.read_text()), **bad}
    assert list(_validator().iter_errors(config))


def test_devcontainer_gives_students_what_they_need():
    """Docker inside, the env installed on creation, the lab environment up on start, 8888 forwarded, the index open?"""
    cfg = json.loads(CONFIG.read_text())
    assert any("docker-in-docker" in f for f in cfg["features"])
    assert "make setup" in cfg["postCreateCommand"]
    assert cfg["postStartCommand"] == "make env"  # registry and base images: dind's engine is up only once started
    assert cfg["postAttachCommand"] == "make lab"
    assert 8888 in cfg["forwardPorts"]
    assert "notebooks/00-index.ipynb" in cfg["customizations"]["codespaces"]["openFiles"]
    assert (CONFIG.parent / cfg["build"]["dockerfile"]).is_file()
