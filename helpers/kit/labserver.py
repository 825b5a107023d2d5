"""Start JupyterLab on 127.0.0.1 with the course open at the index notebook."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path

from helpers.errors import PortInUse
from helpers.paths import course_root, state_dir

__all__ = ["free_port", "lab_command", "INDEX"]

INDEX = "notebooks/00-index.ipynb"


def free_port(preferred: int = 8888, tries: int = 20) -> int:
    """The preferred port if it is free on 127.0.0.1, else the next free one.

    Raises:
        PortInUse: None of ``tries`` ports from ``preferred`` is free.
    """
    for port in range(preferred, preferred + tries):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise PortInUse(
        preferred,
        hint=f"Ports {preferred}-{preferred + tries - 1} are all taken; stop an old JupyterLab "
        "(`jupyter server list`) or pass --port.",
    )


def lab_command(port: int, token: str | None = None) -> tuple[list[str], str]:
    """The JupyterLab command line and the URL (with its token) to open.

    Returns:
        (argv, url)
    """
    token = token or secrets.token_hex(24)
    exchange = Path(os.environ.get("COURSE_EXCHANGE", state_dir() / "exchange"))
    exchange.mkdir(parents=True, exist_ok=True)
    exchange.chmod(0o777)
    argv = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={course_root()}",
        f"--IdentityProvider.token={token}",
        f"--LabApp.default_url=/lab/tree/{INDEX}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    return argv, f"http://127.0.0.1:{port}/lab/tree/{INDEX}?token={token}"
