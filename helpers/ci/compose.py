"""Run a multi-service stack with the Compose CLI that exists here.

``docker compose`` (the v2 plugin: Docker Desktop, Codespaces) when present, else Debian's
``docker-compose`` 1.29. The kit reads and checks the compose file itself first
(:mod:`helpers.ci.composefile`), names each project ``kit-...`` so it can be torn down by project,
and labels every container, volume and network through the file's ``labels:``. The sample app's
images and smoke test live in :mod:`helpers.ci.samplestack`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.ci.composefile import SAMPLE_COMPOSE, load_compose, merge_compose
from helpers.engine.client import get_client, session_id
from helpers.engine.tools import compose_command
from helpers.errors import ContainerError, HealthTimeout, PortInUse, ToolMissing
from helpers.images.health import container_health, log_tail, wait_group_health

__all__ = ["compose_cli", "ComposeStack"]


def compose_cli() -> list[str]:
    """The Compose command to run: ``docker compose`` or ``docker-compose`` (see :mod:`helpers.engine.tools`).

    Raises:
        ToolMissing: Neither exists.
    """

    cmd = compose_command()
    if cmd:
        return list(cmd)
    raise ToolMissing(
        "docker compose",
        hint="Install the compose plugin, or `apt-get install docker-compose` (Debian), or run `make lab`.",
    )


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class ComposeStack:
    """One Compose project the kit runs (use as a context manager to always tear it down).

    Attributes:
        files: The compose file(s), later ones override earlier ones.
        project: The project name (``kit-...``: the kit tears down by project).
        env: Variables for the file (APP_IMAGE, APP_PORT, POSTGRES_PASSWORD ...).
    """

    files: list[Path] = field(default_factory=lambda: [SAMPLE_COMPOSE])
    project: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.files = [Path(f) for f in self.files]
        if not self.project:
            self.project = "kit-" + re.sub(r"[^a-z0-9]", "", f"{self.files[0].parent.name}{session_id()}".lower())[:40]
        elif not self.project.startswith("kit-"):
            self.project = "kit-" + self.project
        self.env = {"COURSE_SESSION": session_id(), **self.env}

    def command(self, *args: str) -> list[str]:
        cmd = compose_cli() + ["-p", self.project]
        for f in self.files:
            cmd += ["-f", str(f)]
        return cmd + list(args)

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run one compose sub-command (``up -d``, ``ps``, ``logs`` ...)."""
        proc = subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env},
            cwd=self.files[0].parent,
        )
        if check and proc.returncode != 0:
            raise ContainerError(
                f"`compose {' '.join(args)}` failed: " + _last_error(proc.stderr),
                self.project,
                proc.returncode,
                hint="Read the message above; `stack.logs()` shows the services' logs.",
            )
        return proc

    def config(self) -> dict[str, Any]:
        """The merged, substituted configuration (checked by the kit first)."""
        doc: dict[str, Any] = {}
        for f in self.files:
            doc = merge_compose(doc, load_compose(f, self.env)[0])
        return doc

    def published_ports(self) -> list[int]:
        ports = []
        for svc in self.config()["services"].values():
            for p in svc.get("ports") or []:
                parts = str(p).split(":")
                if len(parts) >= 2 and parts[-2]:
                    ports.append(int(parts[-2]))
        return ports

    def up(self, timeout: float = 120, client: Any = None) -> dict[str, str]:
        """Start the stack and wait until every service with a health check is healthy.

        Returns:
            service -> health ("healthy", or "running" without a health check).

        Raises:
            PortInUse: A published port is taken (nothing was started).
            HealthTimeout: A service never became healthy (the stack is torn down).
            ContainerError: Compose failed (the stack is torn down).
        """
        get_client(client)
        for port in self.published_ports():
            if not _port_free(port):
                raise PortInUse(port, hint="Stop what uses it, or pass env={'APP_PORT': '<free port>'}.")
        proc = self.run("up", "-d", check=False, timeout=timeout + 60)
        if proc.returncode != 0:
            sick = [
                (ctr.labels.get("com.docker.compose.service", ctr.name), ctr)
                for ctr in self.containers(client)
                if container_health(ctr, reload=False).health == "unhealthy"
            ]
            tail = _health_tail(sick[0][1]) if sick else ""
            self.down()
            if sick or "unhealthy" in proc.stderr:
                name = sick[0][0] if sick else "?"
                raise HealthTimeout(
                    f"Service {name!r} never became healthy, so `compose up` stopped.",
                    name,
                    log_tail=tail,
                    hint="Read its log and its healthcheck; the stack was torn down.",
                )
            if "port is already allocated" in proc.stderr or "address already in use" in proc.stderr:
                port = re.search(r":(\d+)[^\d]*(?:failed|port is already)", proc.stderr)
                raise PortInUse(int(port.group(1)) if port else 0)
            raise ContainerError("`compose up` failed: " + _last_error(proc.stderr), self.project, proc.returncode)
        try:
            return self.wait_healthy(timeout, client)
        except HealthTimeout:
            self.down()
            raise

    def containers(self, client: Any = None) -> list[Any]:
        c = get_client(client)
        return c.containers.list(all=True, filters={"label": f"com.docker.compose.project={self.project}"})

    def wait_healthy(self, timeout: float = 120, client: Any = None) -> dict[str, str]:
        """Wait until every container of the project is healthy (or running, without a health check)."""
        service = lambda ctr: ctr.labels.get("com.docker.compose.service", ctr.name)
        wait = wait_group_health(lambda: self.containers(client), timeout, key=service, poll=1.0)
        if wait.failed:
            ctr, s = wait.containers[wait.failed], wait.states[wait.failed]
            raise HealthTimeout(
                f"Service {wait.failed!r} is {s.verdict}.",
                ctr.name,
                s.exit_code if s.status == "exited" else None,
                _health_tail(ctr),
                hint="Read its log and its healthcheck; the stack was torn down.",
            )
        if wait.timed_out:
            raise HealthTimeout(
                f"Service(s) {wait.not_ready} not healthy after {timeout:.0f} s.",
                self.project,
                hint="Read `stack.logs()`; the stack was torn down.",
            )
        return {k: s.verdict for k, s in wait.states.items()}

    def ps(self, client: Any = None) -> Any:
        """The project's containers as a DataFrame (service, container, status, health, ports)."""
        import pandas as pd

        rows = []
        for ctr in self.containers(client):
            s = ctr.attrs["State"]
            ports = ", ".join(f"{b[0]['HostIp']}:{b[0]['HostPort']}->{p}" for p, b in (ctr.ports or {}).items() if b)
            rows.append(
                {
                    "service": ctr.labels.get("com.docker.compose.service"),
                    "container": ctr.name,
                    "status": s["Status"],
                    "health": (s.get("Health") or {}).get("Status", "-"),
                    "ports": ports,
                }
            )
        return pd.DataFrame(rows, columns=["service", "container", "status", "health", "ports"])

    def logs(self, service: str = "", tail: int = 20) -> str:
        """The last lines of the logs (of one service, or all)."""
        args = ["logs", "--no-color", f"--tail={tail}"] + ([service] if service else [])
        return self.run(*args, check=False).stdout

    def restart_stack(self, timeout: float = 120, client: Any = None) -> dict[str, str]:
        """Stop and remove the containers (keeping the named volumes), then bring it up again."""
        self.run("down")
        return self.up(timeout, client)

    def down(self, volumes: bool = True) -> None:
        """Remove the project's containers and network (and named volumes unless volumes=False)."""
        self.run(*(["down", "--remove-orphans"] + (["-v"] if volumes else [])), check=False)

    def __enter__(self) -> ComposeStack:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.down()


def _health_tail(container: Any) -> str:
    """The container's last log lines and its last health-check result."""
    log = log_tail(container, 8).rstrip()  # byte-capped too: one line can be endless
    probe = container_health(container, reload=False).probe_tail() or "exit code None, output ''"
    return (log + "\n" if log else "") + f"last health check: {probe}"


def _last_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip() and not ln.startswith(("Creating", "Starting"))]
    return lines[-1] if lines else "(no message)"
