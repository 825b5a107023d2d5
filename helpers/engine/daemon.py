"""Make sure a Docker Engine answers: use the one there is, or install and start Debian's.

Order of preference:

1. ``DOCKER_HOST`` or the default socket, when it answers (Codespaces, Docker Desktop).
2. As root on Debian/Ubuntu with no engine: install ``docker.io`` with apt, start ``dockerd``
   in the background (log in the state directory), wait until it answers, and start a DNS
   relay on the bridge so that containers and builds resolve names the way the host does
   (the standard corporate-proxy setup; see the instructor guide).
3. Otherwise: one actionable error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from helpers.engine.client import engine_available
from helpers.engine.dockerd import pid_alive, start_dockerd, terminate
from helpers.errors import EngineUnavailable, SetupError
from helpers.paths import state_dir

__all__ = ["ensure_engine", "stop_engine", "apt_install", "is_root", "is_debian_like", "BRIDGE_IP"]

BRIDGE_IP = "172.17.0.1"
DAEMON_JSON = Path("/etc/docker/daemon.json")

Log = Callable[[str], None]


def is_root() -> bool:
    """True when this process runs as root (it may install packages and start engines)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def is_debian_like() -> bool:
    """True on Debian, Ubuntu and their derivatives (where the kit installs ``docker.io`` with apt)."""
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return False
    return any(w in text for w in ("ID=debian", "ID=ubuntu", "ID_LIKE=debian", 'ID_LIKE="debian', "ID_LIKE=ubuntu"))


def apt_install(packages: list[str], log: Log = print) -> None:
    """Install Debian packages that are missing (root only).

    Raises:
        SetupError: When apt fails (for example, no network to the Debian mirror).
    """
    missing = [p for p in packages if not _dpkg_installed(p)]
    if not missing:
        return
    if not (is_root() and is_debian_like()):
        raise SetupError(
            f"Missing system packages: {' '.join(missing)}.",
            f"Install them with `sudo apt-get install -y {' '.join(missing)}` and run the command again.",
        )
    log(f"Installing Debian packages: {' '.join(missing)} (about a minute)...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    stamp = Path("/var/lib/apt/periodic/update-success-stamp")
    lists = Path("/var/lib/apt/lists")
    if not stamp.exists() and not any(lists.glob("*_Packages")):
        _run(["apt-get", "update", "-q"], env, "apt-get update")
    try:
        _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env, "apt-get install")
    except SetupError:
        # a stale package list is the usual cause: refresh once and retry
        _run(["apt-get", "update", "-q"], env, "apt-get update")
        _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env, "apt-get install")


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise SetupError(
            f"{what} failed:\n{tail}",
            "Check that this machine reaches the Debian package mirror (or a proxy to it), then run again.",
        )


def _dpkg_installed(package: str) -> bool:
    proc = (
        subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if shutil.which("dpkg-query")
        else None
    )
    return bool(proc and proc.returncode == 0 and "install ok installed" in proc.stdout)


def ensure_engine(log: Log = print, wait_seconds: int = 90) -> str:
    """Return how the engine was found ("existing" or "started"), starting one if needed.

    Raises:
        EngineUnavailable: No engine answers and this machine cannot start one.
    """
    if engine_available():
        return "existing"
    if os.environ.get("DOCKER_HOST"):
        raise EngineUnavailable(
            f"DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer",
            "Start that engine, or unset DOCKER_HOST to use the local one.",
        )
    if not (is_root() and is_debian_like()):
        raise EngineUnavailable(
            "none at unix:///var/run/docker.sock, and only root on Debian/Ubuntu can install one",
            "Start Docker (Docker Desktop, `sudo systemctl start docker`) or run `sudo make lab`; "
            "on a JupyterHub without Docker, the labs run their offline parts.",
        )
    apt_install(["docker.io", "dnsmasq-base", "iptables", "iproute2"], log)  # ip: the grading engine's bridge
    _configure_dns()
    _start_dockerd(log, wait_seconds)
    _start_dns_relay(log)
    return "started"


def _configure_dns() -> None:
    """Point containers at the relay on the bridge, keeping any existing daemon settings."""
    config: dict = {}
    if DAEMON_JSON.exists():
        try:
            config = json.loads(DAEMON_JSON.read_text() or "{}")
        except json.JSONDecodeError as e:
            raise SetupError(f"{DAEMON_JSON} is not valid JSON ({e}).", "Fix or move that file, then run again.") from e
    if "dns" in config:
        return  # the machine's owner chose DNS servers: keep them
    config["dns"] = [BRIDGE_IP]
    DAEMON_JSON.parent.mkdir(parents=True, exist_ok=True)
    DAEMON_JSON.write_text(json.dumps(config, indent=2) + "\n")


def _start_dockerd(log: Log, wait_seconds: int) -> None:
    """Start the lab engine: Debian's dockerd with its defaults (``/etc/docker/daemon.json``, the default socket)."""
    start_dockerd(
        [],
        state_dir() / "dockerd.log",
        engine_available,
        daemon_pidfile=Path("/var/run/docker.pid"),
        record_pid=state_dir() / "dockerd.pid",
        log=log,
        wait_seconds=wait_seconds,
        busy_hint="another engine may hold /var/run/docker.sock or /var/lib/docker.",
    )


def _host_nameservers() -> list[str]:
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        return []
    return [ln.split()[1] for ln in lines if ln.startswith("nameserver") and len(ln.split()) > 1]


def _start_dns_relay(log: Log) -> None:
    pidfile = state_dir() / "dnsmasq.pid"
    if pid_alive(pidfile):
        return
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not Path(dnsmasq).exists():
        raise SetupError("dnsmasq is not installed.", "Install Debian's dnsmasq-base package and run again.")
    servers = [s for s in _host_nameservers() if not s.startswith("127.")] or ["1.1.1.1"]
    cmd = [
        dnsmasq,
        f"--listen-address={BRIDGE_IP}",
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--addn-hosts=/etc/hosts",
        f"--pid-file={pidfile}",
        "--user=root",
        f"--log-facility={state_dir() / 'dnsmasq.log'}",
        *[f"--server={s}" for s in servers],
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SetupError(
            f"The DNS relay for containers did not start: {proc.stderr.strip()}",
            "Builds may fail to resolve package hosts; check that the docker0 bridge has " + BRIDGE_IP + ".",
        )
    log(f"DNS relay for containers on {BRIDGE_IP} (serves the host's names).")


def stop_engine(log: Log = print) -> bool:
    """Stop the dockerd and DNS relay this kit started (never an engine it did not start).

    Returns:
        True when something was stopped.
    """
    stopped = False
    for name in ("dnsmasq", "dockerd"):
        pid = terminate(state_dir() / f"{name}.pid")
        if pid:
            log(f"Stopped {name} (pid {pid}).")
            stopped = True
    return stopped
