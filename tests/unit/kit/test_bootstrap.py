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
