"""Run a multi-service stack with the Compose CLI that exists here.

``docker compose`` (the v2 plugin: Docker Desktop, Codespaces) when present, else Debian's
``docker-compose`` 1.29. The kit reads and checks the compose file itself first (so an
unknown key is reported with its line, and the Kubernetes mapping works without an
engine), names each project ``kit-...`` so it can be torn down by project, and labels
every container, volume and network through the file's ``labels:``.
"""

from __future__ import annotations

import difflib
import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import base_image
from helpers.engine.client import ROLE_LABEL, SESSION_LABEL, get_client, session_id
from helpers.engine.tools import compose_command
from helpers.errors import ConfigFileError, ContainerError, HealthTimeout, PortInUse, ToolMissing
from helpers.images.build import build
from helpers.paths import DATA_DIR, course_root

__all__ = [
    "SAMPLE_COMPOSE",
    "SERVICE_KEYS",
    "compose_cli",
    "load_compose",
    "ComposeStack",
    "prepare_sample_images",
    "smoke_test",
]

#: The compose file for sample_python_app + PostgreSQL.
SAMPLE_COMPOSE = DATA_DIR / "sample_app" / "compose.yaml"
#: Service keys of the Compose specification (anything else is a typo or a newer feature).
SERVICE_KEYS = frozenset(
    """
annotations blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name cpu_count
cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset depends_on deploy develop
device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file environment expose extends
external_links extra_hosts group_add healthcheck hostname image init ipc isolation labels links logging mac_address
mem_limit mem_reservation mem_swappiness memswap_limit network_mode networks oom_kill_disable oom_score_adj pid
pids_limit platform ports privileged profiles pull_policy read_only restart runtime scale secrets security_opt
shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits user userns_mode volumes
volumes_from working_dir
""".split()
)
_TOP_KEYS = {"version", "name", "services", "volumes", "networks", "configs", "secrets"}
_VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")


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


def _substitute(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _VAR.sub(
            lambda m: env.get(m.group(1) or m.group(3)) or (m.group(2) or ""), value.replace("$$", "\0")
        ).replace("\0", "$")
    if isinstance(value, list):
        return [_substitute(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, env) for k, v in value.items()}
    return value


def load_compose(
    path: str | Path = SAMPLE_COMPOSE, env: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, int]]:
    """Read a compose file, substitute ``${VAR:-default}`` and check its keys.

    Args:
        path: The compose file.
        env: Variables for substitution (default: the process environment).

    Returns:
        The parsed file and a map "service.key" -> line number.

    Raises:
        ConfigFileError: Invalid YAML, or an unknown key (the message names it, its line and
            the closest known key).
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except OSError as e:
        raise ConfigFileError(str(path), f"cannot be read ({e.strerror})") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigFileError(
            path.name,
            f"is not valid YAML: {getattr(e, 'problem', e)}",
            line=mark.line + 1 if mark else 0,
            hint="Check the indentation on that line.",
        ) from e
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        raise ConfigFileError(
            path.name, "has no `services:` mapping", hint="A compose file lists its services under `services:`."
        )
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        lines[key_node.value] = key_node.start_mark.line + 1
        if key_node.value == "services":
            for svc_key, svc_node in value_node.value:
                lines[svc_key.value] = svc_key.start_mark.line + 1
                for k, _ in getattr(svc_node, "value", []):
                    lines[f"{svc_key.value}.{k.value}"] = k.start_mark.line + 1
    for key in doc:
        if key not in _TOP_KEYS:
            raise ConfigFileError(
                path.name,
                f"unknown top-level key {key!r}",
                lines.get(key, 0),
                hint=f"Top-level keys are {', '.join(sorted(_TOP_KEYS))}.",
            )
    for name, svc in doc["services"].items():
        for key in svc or {}:
            if key not in SERVICE_KEYS:
                close = difflib.get_close_matches(key, SERVICE_KEYS, n=1)
                raise ConfigFileError(
                    path.name,
                    f"services.{name}: unknown key {key!r}",
                    lines.get(f"{name}.{key}", 0),
                    hint=(f"Did you mean {close[0]!r}? " if close else "")
                    + "See https://docs.docker.com/reference/compose-file/services/",
                )
    return _substitute(doc, {**os.environ, **(env or {})}), lines


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
            doc = _merge(doc, load_compose(f, self.env)[0])
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
                if (ctr.attrs["State"].get("Health") or {}).get("Status") == "unhealthy"
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
        start = time.monotonic()
        while True:
            state: dict[str, str] = {}
            for ctr in self.containers(client):
                s = ctr.attrs["State"]
                service = ctr.labels.get("com.docker.compose.service", ctr.name)
                state[service] = (s.get("Health") or {}).get("Status") or s["Status"]
                if s["Status"] == "exited" or state[service] == "unhealthy":
                    raise HealthTimeout(
                        f"Service {service!r} is {state[service]}.",
                        ctr.name,
                        s.get("ExitCode") if s["Status"] == "exited" else None,
                        _health_tail(ctr),
                        hint="Read its log and its healthcheck; the stack was torn down.",
                    )
            if state and all(v in ("healthy", "running") for v in state.values()):
                return state
            if time.monotonic() - start > timeout:
                bad = [k for k, v in state.items() if v not in ("healthy", "running")]
                raise HealthTimeout(
                    f"Service(s) {bad} not healthy after {timeout:.0f} s.",
                    self.project,
                    hint="Read `stack.logs()`; the stack was torn down.",
                )
            time.sleep(1)

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
    log = container.logs(tail=8).decode(errors="replace").rstrip()
    probes = (container.attrs["State"].get("Health") or {}).get("Log") or []
    last = probes[-1] if probes else {}
    check = f"last health check: exit code {last.get('ExitCode')}, output {last.get('Output', '').strip()[:200]!r}"
    return (log + "\n" if log else "") + check


def _merge(base: Any, over: Any) -> Any:
    """Compose's override rule, simplified: mappings merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in over.items()}}
    return over


def _last_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip() and not ln.startswith(("Creating", "Starting"))]
    return lines[-1] if lines else "(no message)"


def prepare_sample_images(client: Any = None) -> dict[str, str]:
    """Build the app image; use the official PostgreSQL image, or build one from Debian packages.

    Returns:
        The variables to pass to :class:`ComposeStack` (APP_IMAGE, DB_IMAGE).
    """

    c = get_client(client)
    data = DATA_DIR
    shared = {SESSION_LABEL: "shared", ROLE_LABEL: "compose"}  # reused across sessions; `cleanup()` removes them
    app, db = "course-kit/sample-app:compose", "course-kit/postgres:15-bookworm"
    build(
        course_root() / "sample_python_app",
        dockerfile=data / "sample_app" / "optimized.Dockerfile",
        tags=[app],
        labels=shared,
        client=c,
    )
    official = _official_postgres(c)
    if official:
        return {"APP_IMAGE": app, "DB_IMAGE": official}
    build(data / "postgres", tags=[db], build_args={"BASE_IMAGE": base_image("debian", c)}, labels=shared, client=c)
    return {"APP_IMAGE": app, "DB_IMAGE": db}


def _official_postgres(client: Any, ref: str = "postgres:15") -> str:
    """The official image when the engine has it or a registry serves it, else ""."""
    from docker.errors import APIError, ImageNotFound

    try:
        client.images.get(ref)
        return ref
    except ImageNotFound:
        pass
    try:
        client.images.pull(ref)
        return ref
    except APIError:
        return ""


def smoke_test(base_url: str, item_name: str = "compose-check") -> list[tuple[str, bool, str]]:
    """Check the running sample app: healthy on PostgreSQL, can write and read an item.

    Returns:
        (check, passed, detail) for each check.
    """
    import requests

    out: list[tuple[str, bool, str]] = []
    try:
        health = requests.get(f"{base_url}/health", timeout=5)
        body = health.json()
        out.append(("health", health.status_code == 200, f"HTTP {health.status_code}, backend {body.get('backend')}"))
        out.append(("postgresql backend", body.get("backend") == "postgresql", f"backend {body.get('backend')!r}"))
        created = requests.post(f"{base_url}/items", json={"name": item_name, "price": 1.0, "quantity": 1}, timeout=5)
        out.append(("write an item", created.status_code == 201, f"HTTP {created.status_code}"))
        names = [i["name"] for i in requests.get(f"{base_url}/items", timeout=5).json()]
        out.append(("read it back", item_name in names, f"{len(names)} item(s) stored"))
    except (requests.RequestException, ValueError) as e:
        out.append(("reach the app", False, f"{type(e).__name__}: {e}"[:120]))
    return out
