"""Unit tests for helpers.ci.compose (no engine)."""

from __future__ import annotations

from pathlib import Path

from helpers.ci.compose import ComposeStack
from helpers.ci.composefile import SAMPLE_COMPOSE


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
