"""Start JupyterLab on 127.0.0.1 with the course open at the index notebook, per role.

Two roles (:func:`lab_role`): the **instructor** (a checkout with ``source/``) gets every nbgrader tool;
a **student** (the students' copy, which has no ``source/``) gets the Assignments panel and Validate but
not the formgrader or "Create Assignment": :data:`STUDENT_CONFIG` is put first on ``JUPYTER_CONFIG_PATH``
(it disables nbgrader 0.9's ``formgrader`` server extension and its ``formgrader`` and
``create-assignment`` lab plugins). ``COURSE_ROLE=student|instructor`` overrides the guess.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path

from helpers.errors import CourseError, PortInUse
from helpers.paths import DATA_DIR, course_root, state_dir

__all__ = ["free_port", "lab_command", "lab_env", "lab_role", "INDEX", "ROLES", "STUDENT_CONFIG"]

INDEX = "notebooks/00-index.ipynb"
ROLES = ("instructor", "student")
#: A Jupyter config directory (``jupyter_server_config.d/``, ``labconfig/page_config.json``) for students.
STUDENT_CONFIG = DATA_DIR / "jupyter_student"


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


def lab_role(root: Path | None = None) -> str:
    """``"instructor"`` or ``"student"``: ``COURSE_ROLE`` if set, else instructor where ``source/`` exists.

    ``source/`` holds the solutions and hidden tests, so only the instructor's checkout has it (the students'
    copy, ``make student-repo``, never does).

    Raises:
        CourseError: ``COURSE_ROLE`` names another role.
    """
    role = os.environ.get("COURSE_ROLE", "").strip().lower()
    if role and role not in ROLES:
        raise CourseError(f"COURSE_ROLE={role!r} is not a role.", f"Use one of: {', '.join(ROLES)} (or unset it).")
    if role:
        return role
    return "instructor" if ((root or course_root()) / "source").is_dir() else "student"


def lab_env(role: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment JupyterLab runs with: for a student, :data:`STUDENT_CONFIG` first on JUPYTER_CONFIG_PATH."""
    env = dict(os.environ if base is None else base)
    if role == "student":
        rest = [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(STUDENT_CONFIG), *rest])
    return env
