"""Start and stop a dockerd the kit runs: the one place that launches the daemon and handles its pid files.

The lab engine (:func:`helpers.engine.daemon.ensure_engine`: Debian's dockerd with its defaults) and the
grading engine (:mod:`helpers.grading.engine`: a second dockerd with its own data root, socket and bridge)
differ only in flags and paths; both start through :func:`start_dockerd` and stop through :func:`terminate`.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from helpers.errors import EngineUnavailable, SetupError

__all__ = ["DOCKERD", "start_dockerd", "remove_stale_pidfile", "pid_alive", "terminate"]

DOCKERD = "/usr/sbin/dockerd"

Log = Callable[[str], None]


def start_dockerd(
    args: list[str],
    logfile: Path,
    answers: Callable[[], bool],
    *,
    daemon_pidfile: Path,
    record_pid: Path | None = None,
    name: str = "dockerd",
    log: Log = print,
    wait_seconds: int = 90,
    busy_hint: str = "",
) -> int:
    """Start a kit dockerd in the background and wait until it answers.

    The one place the kit starts a dockerd: the lab engine (:func:`helpers.engine.daemon.ensure_engine`) and the grading
    engine (:mod:`helpers.grading.engine`) differ only in their flags and paths.

    Args:
        args: dockerd's flags (its data root, socket, bridge...; none for Debian's defaults).
        logfile: Where its output goes (appended).
        answers: True once the new engine answers (e.g. a ping on its socket).
        daemon_pidfile: The pid file dockerd itself writes (a stale one is removed first).
        record_pid: Where the kit records the pid, when dockerd's own pid file is elsewhere.
        name: What to call it in messages ("dockerd", "the grading engine").
        log: Where the progress line goes.
        wait_seconds: How long it may take to answer.
        busy_hint: Added to the hint when it exits at once (what usually holds its resources).

    Returns:
        The pid of the started dockerd.

    Raises:
        SetupError: dockerd is not installed.
        EngineUnavailable: It exited, or did not answer in time (the message carries its log's tail).
    """
    if not Path(DOCKERD).exists():
        raise SetupError("dockerd is not installed.", "Install Debian's docker.io package and run again.")
    remove_stale_pidfile(daemon_pidfile, "dockerd")
    log(f"Starting {name} (log: {logfile})...")
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(
            [DOCKERD, *args], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    if record_pid is not None:
        record_pid.write_text(str(proc.pid))
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-5:])
            raise EngineUnavailable(
                f"{name} exited with status {proc.returncode}:\n{tail}",
                f"Read {logfile}; {busy_hint}" if busy_hint else f"Read {logfile}.",
            )
        if answers():
            return proc.pid
        time.sleep(0.5)
    raise EngineUnavailable(f"{name} did not answer within {wait_seconds} s", f"Read {logfile}.")


def remove_stale_pidfile(pidfile: Path, name: str) -> None:
    """Remove ``pidfile`` when no process named ``name`` runs under its pid.

    A dockerd killed without cleanup leaves its pid file; a new dockerd refuses to start while
    that pid exists (and pids get reused).
    """
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = b""
    if name.encode() not in cmdline:
        pidfile.unlink(missing_ok=True)


def pid_alive(pidfile: Path) -> bool:
    """True when the process a pid file names is running."""
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def terminate(pidfile: Path, seconds: float = 15) -> int | None:
    """Stop the process a pid file of the kit names (SIGTERM, then wait); remove the pid file.

    Returns:
        Its pid, or None when it was not running.
    """
    pid = None
    if pid_alive(pidfile):
        pid = int(pidfile.read_text())
        os.kill(pid, 15)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)  # reap it when this process started it (else it stays a zombie)
            except ChildProcessError:
                pass
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.1)
    pidfile.unlink(missing_ok=True)
    return pid
