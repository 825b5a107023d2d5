"""Unit tests for helpers.ci.composefile: reading and checking compose files (no engine)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers.bounded import YAML_CAP
from helpers.ci.composefile import _substitute, load_compose, merge_compose
from helpers.errors import ConfigFileError
from tests.unit.test_bounded import ALIAS_BOMB


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


def test_alias_bomb_compose_file_is_refused_fast(tmp_path: Path):
    """Is a compose file carrying the ~550-byte alias bomb refused in well under a second?"""
    f = tmp_path / "compose.yaml"
    f.write_text("services:\n  app:\n    image: x\nx-bomb:\n" + "\n".join("  " + ln for ln in ALIAS_BOMB.splitlines()))
    start = time.perf_counter()
    with pytest.raises(ConfigFileError) as e:
        load_compose(f)
    assert time.perf_counter() - start < 0.5 and e.value.line == 5 and "alias" in str(e.value)


def test_extension_anchor_is_refused_naming_the_line(tmp_path: Path):
    """Is the usual `x-common: &common` pattern refused with its line (the kit reads no aliases)?"""
    f = tmp_path / "compose.yaml"
    f.write_text("x-common: &common\n  restart: always\nservices:\n  app:\n    <<: *common\n    image: x\n")
    with pytest.raises(ConfigFileError) as e:
        load_compose(f)
    assert e.value.line == 1 and "compose.yaml" in str(e.value)


def test_oversized_compose_file_is_refused(tmp_path: Path):
    """Is a compose file over the YAML cap refused before it is parsed?"""
    f = tmp_path / "compose.yaml"
    f.write_text("services:\n  app:\n    image: x\n" + "#" * YAML_CAP)
    with pytest.raises(ConfigFileError, match="larger than"):
        load_compose(f)


@pytest.mark.parametrize("value", ["${a:-" * 13000, "$ " * 32000, "${" + "a" * 65536, "${a:-}" * 10000, "$a" * 30000])
def test_substitution_is_linear_on_hostile_values(tmp_path: Path, value: str):
    """Does ${VAR:-default} substitution take well under a second on 64 KB of hostile text?"""
    start = time.perf_counter()
    _substitute({"services": {"app": {"command": value}}}, {"a": "1"})
    assert time.perf_counter() - start < 0.5


def test_substitution_keeps_its_meaning():
    """Do $VAR, ${VAR}, ${VAR:-default}, ${VAR-default} and $$ still substitute as before?"""
    env = {"A": "1"}
    assert _substitute("$A ${A} ${B:-d} ${B-e} $$A ${A:-x} ${B:-x$y} ${open $", env) == "1 1 d e $A 1 x$y ${open $"
