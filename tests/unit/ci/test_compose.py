"""Unit tests for helpers.ci.compose (no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.ci.compose import SAMPLE_COMPOSE, ComposeStack, load_compose
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


def test_project_name_carries_kit_prefix():
    """Is every project the kit runs named kit-... (so it is torn down by project)?"""
    assert ComposeStack().project.startswith("kit-")
    assert ComposeStack(project="demo").project == "kit-demo"


def test_override_file_merges_services(tmp_path: Path):
    """Does a second file override one service key and keep the rest?"""
    override = tmp_path / "override.yaml"
    override.write_text("services:\n  app:\n    environment:\n      LOG_LEVEL: DEBUG\n")
    cfg = ComposeStack([SAMPLE_COMPOSE, override]).config()
    env = cfg["services"]["app"]["environment"]
    assert env["LOG_LEVEL"] == "DEBUG" and env["DATABASE_URL"].startswith("postgresql://")
    assert cfg["services"]["app"]["image"].startswith("course-kit/")
    assert ComposeStack([SAMPLE_COMPOSE], env={"APP_PORT": "18123"}).published_ports() == [18123]
