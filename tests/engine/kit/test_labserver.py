"""`make lab` serves JupyterLab with the index notebook, on a free port, behind a token."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from helpers.kit.labserver import free_port


def _start(port: int):
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers", "lab", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = None
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline and url is None:
        line = proc.stdout.readline()
        lines.append(line)
        if m := re.search(r"(http://127\.0\.0\.1:(\d+)/lab/tree/notebooks/00-index\.ipynb\?token=(\w+))", line):
            url = m
    assert url, "no URL printed:\n" + "".join(lines)
    return proc, int(url.group(2)), url.group(3)


def _wait_status(port, token, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            r = requests.get(f"http://127.0.0.1:{port}/api/status", params={"token": token}, timeout=2)
            return r
        except requests.ConnectionError:
            time.sleep(0.5)
    pytest.fail("JupyterLab did not answer")


def _stop(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def test_lab_serves_index_with_token_and_moves_off_a_busy_port():
    """Does JupyterLab answer /api/status with its token (403 without), show the index, and avoid a busy port?"""
    start = free_port(18888)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", start))
        blocker.listen()
        proc, port, token = _start(start)
        try:
            assert port != start
            r = _wait_status(port, token)
            assert r.status_code == 200 and "started" in r.json()
            assert requests.get(f"http://127.0.0.1:{port}/api/status", timeout=5).status_code == 403
            nb = requests.get(
                f"http://127.0.0.1:{port}/api/contents/notebooks/00-index.ipynb", params={"token": token}, timeout=10
            )
            assert nb.status_code == 200 and nb.json()["type"] == "notebook"
        finally:
            _stop(proc)
