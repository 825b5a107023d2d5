"""The set-up script fails in two clear lines when PyPI cannot be reached."""

from __future__ import annotations

import os
import subprocess

from kitroot import ROOT


def test_bootstrap_without_pypi_says_what_to_do(tmp_path):
    """With no reachable package index, does scripts/bootstrap.sh exit non-zero with an actionable message?"""
    env = dict(
        os.environ,
        VENV=str(tmp_path / "venv"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL="http://127.0.0.1:9/simple",
        PIP_FIND_LINKS="",
        PIP_RETRIES="0",
        PIP_DEFAULT_TIMEOUT="3",
    )
    env.pop("PIP_EXTRA_INDEX_URL", None)
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "bootstrap.sh")], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 1
    assert "pip could not install" in proc.stderr and "PIP_INDEX_URL" in proc.stderr
    assert not (tmp_path / "venv" / ".installed").exists()


def _old_python3(folder):
    """A `python3` that says it is 3.10 (Ubuntu 22.04's), first on PATH."""
    fake = folder / "python3"
    fake.write_text(
        '#!/bin/sh\ncase "$*" in *version_info*) exit 1;; --version) echo "Python 3.10.12"; exit 0;; esac\nexit 1\n'
    )
    fake.chmod(0o755)
    return fake


def test_bootstrap_picks_a_newer_python_when_python3_is_too_old(tmp_path):
    """With python3 at 3.10 and a python3.11+ beside it (Ubuntu 22.04 with python3.11), is the newer one chosen?"""
    _old_python3(tmp_path)
    env = dict(os.environ, PATH=f"{tmp_path}:/usr/local/bin:/usr/bin:/bin", PYTHON="")
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "bootstrap.sh"), "--which-python"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    chosen = proc.stdout.strip()
    assert proc.returncode == 0 and chosen.startswith("python3.1"), proc.stdout + proc.stderr
    version = subprocess.run(
        [chosen, "-c", "import sys; print(sys.version_info >= (3, 11))"],
        env=env,
        text=True,
        capture_output=True,
        check=True,
    ).stdout
    assert version.strip() == "True"


def test_bootstrap_with_a_too_old_python_says_what_to_install(tmp_path):
    """Given an interpreter older than 3.11, does set-up stop with the versions found and the packages to install?"""
    fake = _old_python3(tmp_path)
    env = dict(os.environ, PYTHON=str(fake), VENV=str(tmp_path / "venv"))
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "bootstrap.sh")], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 1
    assert "Python 3.10.12" in proc.stderr and "python3.11-venv" in proc.stderr
    assert not (tmp_path / "venv").exists()
