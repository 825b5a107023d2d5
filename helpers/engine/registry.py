"""The course's local image registry: 127.0.0.1:5000 with user-name/password authentication.

It runs Debian's ``docker-registry`` (CNCF distribution 2.8) as a process when that is
installed (or installable, as root), else the ``registry:2`` image as a labelled container
when a registry is reachable to pull it from. Credentials are generated on first use into
``<state dir>/registry/credentials.json`` (git-ignored) and never printed unless asked.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.client import engine_available, get_client, kit_labels
from helpers.engine.daemon import apt_install, is_debian_like, is_root
from helpers.errors import PortInUse, RegistryAuthError, RegistryError, SetupError
from helpers.paths import state_dir

__all__ = [
    "RegistryInfo",
    "local_registry",
    "ensure_registry",
    "stop_registry",
    "registry_status",
    "registry_port",
    "REGISTRY_PORT",
]


def registry_port() -> int:
    """The local registry's port: ``COURSE_REGISTRY_PORT`` (the grading engine sets its own), else 5000."""
    return int(os.environ.get("COURSE_REGISTRY_PORT", "5000"))


REGISTRY_PORT = registry_port()  # the port at import; the kit calls registry_port() each time
USERNAME = "student"
Log = Callable[[str], None]


@dataclass(frozen=True)
class RegistryInfo:
    """How to reach the local registry.

    Attributes:
        address: ``host:port`` to use in image references (``127.0.0.1:5000/app:1.0``).
        username: User name for ``docker login``.
        password: Password for ``docker login`` (keep it out of logs and images).
    """

    address: str
    username: str
    password: str

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def auth_config(self) -> dict[str, str]:
        """For docker-py's ``push(..., auth_config=...)``."""
        return {"username": self.username, "password": self.password}

    def __repr__(self) -> str:  # never show the password by accident
        return f"RegistryInfo(address={self.address!r}, username={self.username!r}, password='***')"


def _dir() -> Path:
    d = state_dir() / "registry"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _credentials() -> tuple[str, str]:
    path = _dir() / "credentials.json"
    if path.exists():
        data = json.loads(path.read_text())
        return data["username"], data["password"]
    password = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"username": USERNAME, "password": password}, f)
    return USERNAME, password


def local_registry() -> RegistryInfo:
    """The local registry's address and credentials (generated on first use)."""
    user, password = _credentials()
    return RegistryInfo(f"127.0.0.1:{registry_port()}", user, password)


def _probe(info: RegistryInfo, auth: bool) -> int | None:
    """HTTP status of ``GET /v2/`` (None when nothing answers; -1 when it is not a registry)."""
    import requests

    try:
        r = requests.get(f"{info.url}/v2/", auth=(info.username, info.password) if auth else None, timeout=3)
    except requests.RequestException:
        return None
    if "Docker-Distribution-Api-Version" not in r.headers:
        return -1
    return r.status_code


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def registry_status() -> dict[str, Any]:
    """A short description: address, whether it answers, and whether auth works."""
    info = local_registry()
    anonymous = _probe(info, auth=False)
    authed = _probe(info, auth=True) if anonymous not in (None, -1) else None
    return {
        "address": info.address,
        "running": anonymous not in (None, -1),
        "auth_required": anonymous == 401,
        "login_ok": authed == 200,
        "username": info.username,
    }


def ensure_registry(log: Log = print, client: Any = None) -> RegistryInfo:
    """Start the local registry unless it already answers; check that authentication works.

    Raises:
        PortInUse: Something that is not our registry holds the port.
        RegistryAuthError: A registry answers there but refuses the course credentials.
        SetupError: No way to run a registry on this machine.
    """
    info = local_registry()
    state = _probe(info, auth=False)
    if state == -1 or (state is None and _port_taken(registry_port())):
        raise PortInUse(
            registry_port(), hint="Stop what listens there, or set COURSE_REGISTRY_PORT to a free port and run again."
        )
    if state is None:
        _write_config(info)
        if shutil.which("docker-registry") or _can_install():
            _start_process(log)
        else:
            _start_container(info, log, client)
        state = _wait(info)
    if state != 401:
        raise RegistryError(
            f"The registry at {info.address} does not ask for a password (HTTP {state}).",
            "Stop that registry (`python -m helpers env down`) and run `make lab` again.",
        )
    if _probe(info, auth=True) != 200:
        raise RegistryAuthError(
            info.address, hint="Another registry holds the port; stop it or set COURSE_REGISTRY_PORT."
        )
    return info


def _can_install() -> bool:

    return is_root() and is_debian_like()


def _write_config(info: RegistryInfo) -> None:
    import bcrypt

    d = _dir()
    (d / "data").mkdir(exist_ok=True)
    digest = bcrypt.hashpw(info.password.encode(), bcrypt.gensalt(rounds=10)).decode().replace("$2b$", "$2y$", 1)
    (d / "htpasswd").write_text(f"{info.username}:{digest}\n")
    (d / "config.yml").write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {d / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{registry_port()}\n  secret: {secrets.token_hex(16)}\n"
        f"auth:\n  htpasswd:\n    realm: course-registry\n    path: {d / 'htpasswd'}\n"
    )


def _start_process(log: Log) -> None:
    if not shutil.which("docker-registry"):
        apt_install(["docker-registry"], log)
    d = _dir()
    log(f"Starting the local registry on 127.0.0.1:{registry_port()} (log: {d / 'registry.log'})...")
    with open(d / "registry.log", "ab") as out:
        proc = subprocess.Popen(
            ["docker-registry", "serve", str(d / "config.yml")],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (d / "registry.pid").write_text(str(proc.pid))


def _start_container(info: RegistryInfo, log: Log, client: Any) -> None:
    from docker.errors import APIError

    c = get_client(client)
    d = _dir()
    log(f"Starting registry:2 as a container on 127.0.0.1:{registry_port()}...")
    try:
        c.containers.run(
            "registry:2",
            name="course-registry",
            detach=True,
            restart_policy={"Name": "unless-stopped"},
            ports={"5000/tcp": ("127.0.0.1", registry_port())},
            labels=kit_labels("registry"),
            environment={
                "REGISTRY_AUTH": "htpasswd",
                "REGISTRY_AUTH_HTPASSWD_REALM": "course-registry",
                "REGISTRY_AUTH_HTPASSWD_PATH": "/auth/htpasswd",
                "REGISTRY_STORAGE_DELETE_ENABLED": "true",
            },
            volumes={
                str(d / "htpasswd"): {"bind": "/auth/htpasswd", "mode": "ro"},
                str(d / "data"): {"bind": "/var/lib/registry", "mode": "rw"},
            },
        )
    except APIError as e:
        raise SetupError(
            f"Could not start a registry: {e.explanation}",
            "Install Debian's docker-registry package (`sudo apt-get install docker-registry`) and run again.",
        ) from e


def _wait(info: RegistryInfo, seconds: float = 20) -> int | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = _probe(info, auth=False)
        if state not in (None, -1):
            return state
        time.sleep(0.3)
    log_file = _dir() / "registry.log"
    tail = log_file.read_text(errors="replace").strip().splitlines()[-3:] if log_file.exists() else []
    raise RegistryError(
        f"The registry did not answer on {info.address} within {seconds:.0f} s."
        + ("\n" + "\n".join(tail) if tail else ""),
        f"Read {log_file}.",
    )


def stop_registry(log: Log = print, client: Any = None) -> bool:
    """Stop the registry this kit started (its data stays in the state directory)."""
    pidfile = _dir() / "registry.pid"
    stopped = False
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text()), 15)
            stopped = True
            log("Stopped the local registry.")
        except (OSError, ValueError):
            pass
        pidfile.unlink(missing_ok=True)
    if engine_available(client):
        from docker.errors import NotFound

        try:
            ctr = get_client(client).containers.get("course-registry")
            if ctr.labels.get("org.dockercourse.kit") == "true":
                ctr.remove(force=True)
                stopped = True
        except NotFound:
            pass
    return stopped
