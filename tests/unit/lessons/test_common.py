"""The one-line engine status every lesson shows."""

from __future__ import annotations

from helpers.lessons import common as lessons


def test_status_line_without_engine(monkeypatch):
    """Does a lesson say in one line that no engine answers, instead of failing?"""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    line = lessons.engine_status_line()
    assert line.startswith("No Docker Engine answers") and "\n" not in line
