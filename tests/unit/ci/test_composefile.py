"""Unit tests for helpers.ci.composefile: reading and checking compose files (no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.ci.composefile import load_compose, merge_compose
from helpers.errors import ConfigFileError


def test_sample_file_has_healthchecks_depends_on_and_volume():
    """Does the sample stack use health checks, depends_on service_healthy and a named volume?"""
    doc, _ = load_compose()
    app, db = doc["services"]["app"], doc["services"]["db"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert "healthcheck" in app and "healthcheck" in db
    assert db["volumes"] == ["db-data:/var/lib/postgresql/data"] and "db-data" in doc["volumes"]


def test_variables_are_substituted_with_defaults_and_env():
    """Are ${VAR:-default} values filled from env, else from the default?"""
    doc, _ = load_compose(env={"APP_PORT": "19999", "POSTGRES_PASSWORD": "s3cret"})
    assert doc["services"]["app"]["ports"] == ["127.0.0.1:19999:8000"]
    assert "s3cret@db" in doc["services"]["app"]["environment"]["DATABASE_URL"]
    doc, _ = load_compose(env={"APP_PORT": ""})
    assert doc["services"]["app"]["ports"] == ["127.0.0.1:8080:8000"]


def test_every_kit_object_is_labelled():
    """Do services, the volume and the network carry the kit label?"""
    doc, _ = load_compose()
    for part in (*doc["services"].values(), doc["volumes"]["db-data"], doc["networks"]["default"]):
        assert part["labels"]["org.dockercourse.kit"] == "true"


def test_unknown_key_names_line_and_suggestion(tmp_path: Path):
    """Is a misspelt key reported with its line and the closest real key?"""
    f = tmp_path / "compose.yaml"
    f.write_text("services:\n  app:\n    image: x\n    healthchek:\n      test: [CMD, true]\n")
    with pytest.raises(ConfigFileError) as e:
        load_compose(f)
    assert e.value.line == 4 and "healthchek" in str(e.value) and "healthcheck" in str(e.value)


def test_yaml_error_names_line(tmp_path: Path):
    """Is broken YAML reported with a line number?"""
    f = tmp_path / "compose.yaml"
    f.write_text("services:\n  app:\n    image: [x\n")
    with pytest.raises(ConfigFileError) as e:
        load_compose(f)
    assert e.value.line > 0


def test_merge_replaces_lists_and_merges_mappings():
    """Does a later file win key by key in mappings, and replace lists whole?"""
    base = {"services": {"app": {"image": "a", "ports": ["1:1"], "environment": {"A": "1"}}}}
    over = {"services": {"app": {"ports": ["2:2"], "environment": {"B": "2"}}}}
    merged = merge_compose(base, over)["services"]["app"]
    assert merged == {"image": "a", "ports": ["2:2"], "environment": {"A": "1", "B": "2"}}
