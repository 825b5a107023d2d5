"""The environment status with no engine: clear, and never a traceback."""

from __future__ import annotations

import subprocess
import sys

NOWHERE = "unix:///nonexistent-course.sock"


def test_status_without_engine_says_what_to_do(monkeypatch):
    """With no engine, does `env status` mark the engine missing, say what to do, and exit 1?"""
    env = {"DOCKER_HOST": NOWHERE, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "env", "status"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
    )
    assert proc.returncode == 1
    first = proc.stdout.splitlines()[0]
    assert first.startswith("engine") and "MISSING" in first and "make lab" in first
    assert "Traceback" not in proc.stderr


def test_up_with_unreachable_docker_host_is_one_message(monkeypatch):
    """When DOCKER_HOST points nowhere, does `env up` refuse in one short message (exit 2)?"""
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "env", "up"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DOCKER_HOST": NOWHERE},
    )
    assert proc.returncode == 2
    assert "does not answer" in proc.stderr and "unset DOCKER_HOST" in proc.stderr
    assert "Traceback" not in proc.stderr
