"""Runtime configuration, shown live: environment variables, a bind mount, a named volume
that outlives its container, a health check that turns unhealthy, and a memory limit the
kernel enforces. Everything is labelled and removed afterwards.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client, kit_labels
from helpers.images.health import wait_health
from helpers.lessons.common import ROLE, lesson_image, run_once

__all__ = [
    "env_inside",
    "BindMountResult",
    "bind_mount_demo",
    "VolumeResult",
    "volume_demo",
    "HealthResult",
    "health_demo",
    "MemoryResult",
    "memory_limit_demo",
]

_NS = 1_000_000_000  # docker-py health-check durations are in nanoseconds


def env_inside(environment: Mapping[str, str], image: str | None = None, client: Any = None) -> dict[str, str]:
    """Start a container with ``environment`` and return the variables it sees (``env``)."""
    out = run_once("env", image=image, client=client, check=True, environment=dict(environment)).output
    pairs = (line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {k: v for k, v in pairs}


@dataclass
class BindMountResult:
    """A host folder mounted into a container.

    Attributes:
        read_inside: What the container read from the host's file.
        written_back: What the host found in the file the container wrote.
        mount: The mount as ``docker inspect`` reports it.
    """

    read_inside: str
    written_back: str
    mount: dict[str, Any] = field(default_factory=dict)


def bind_mount_demo(image: str | None = None, client: Any = None) -> BindMountResult:
    """Mount a temporary host folder at /data: the container reads a file and writes one.

    The bind mount needs the engine to see the notebook's files (true on one machine and in
    Codespaces with docker-in-docker; not with a remote engine).
    """
    with tempfile.TemporaryDirectory(prefix="course-bind-") as tmp:
        host = Path(tmp)
        host.chmod(0o777)
        (host / "from-host.txt").write_text("written on the host\n")
        run = run_once(
            "cat /data/from-host.txt && echo 'written in the container' > /data/from-container.txt",
            image=image,
            client=client,
            check=True,
            volumes={str(host): {"bind": "/data", "mode": "rw"}},
        )
        back = (host / "from-container.txt").read_text().strip() if (host / "from-container.txt").exists() else ""
        mount = next((m for m in run.attrs.get("Mounts", []) if m.get("Destination") == "/data"), {})
        return BindMountResult(
            run.output.strip(), back, {k: mount.get(k) for k in ("Type", "Source", "Destination", "RW")}
        )


@dataclass
class VolumeResult:
    """A named volume written by one container and read by the next.

    Attributes:
        volume: The volume's name.
        first_container: Name of the container that wrote (already removed when the second ran).
        written: What the first container wrote.
        read_back: What a second, new container read from the same volume.
        first_removed: True when the first container was gone before the second started.
    """

    volume: str
    first_container: str
    written: str
    read_back: str
    first_removed: bool


def volume_demo(image: str | None = None, client: Any = None) -> VolumeResult:
    """Write into a named volume from one container, remove it, read from a new one, remove the volume."""
    from docker.errors import NotFound

    c = get_client(client)
    name = f"course-lesson-{uuid.uuid4().hex[:8]}"
    vol = c.volumes.create(name, labels=kit_labels(ROLE))
    try:
        stamp = f"items saved at {time.strftime('%H:%M:%S')}"
        first = run_once(
            f"echo '{stamp}' > /var/lib/app/items.txt && hostname",
            image=image,
            client=c,
            check=True,
            volumes={name: {"bind": "/var/lib/app", "mode": "rw"}},
        )
        first_name = first.attrs.get("Name", "").lstrip("/")
        try:
            c.containers.get(first.attrs["Id"])
            removed = False
        except NotFound:
            removed = True
        second = run_once(
            "cat /var/lib/app/items.txt",
            image=image,
            client=c,
            check=True,
            volumes={name: {"bind": "/var/lib/app", "mode": "ro"}},
        )
        return VolumeResult(name, first_name, stamp, second.output.strip(), removed)
    finally:
        vol.remove(force=True)


@dataclass
class HealthResult:
    """A container whose health check starts passing and then fails.

    Attributes:
        timeline: DataFrame (seconds, status) of every status change seen.
        last_probe: The last health-check result (ExitCode, Output) the engine recorded.
        failing_streak: Consecutive failed probes when it was declared unhealthy.
        retries: The ``retries`` setting of the health check.
    """

    timeline: Any
    last_probe: dict[str, Any]
    failing_streak: int
    retries: int


def health_demo(
    healthy_for: float = 3.0,
    interval: float = 1.0,
    retries: int = 2,
    timeout: float = 30.0,
    image: str | None = None,
    client: Any = None,
) -> HealthResult:
    """Run a container whose health check tests a file that the app deletes after ``healthy_for`` seconds.

    Args:
        healthy_for: Seconds before the "app" removes its ready file.
        interval: Seconds between probes.
        retries: Failed probes in a row before the engine says "unhealthy".
        timeout: Give up watching after this many seconds.
        image: Image to run (default: the slim Python base).
        client: docker-py client (connects lazily).

    Returns:
        A :class:`HealthResult`.
    """
    import pandas as pd

    c = get_client(client)
    image = image or lesson_image(client=c)
    cmd = f"touch /tmp/ready; sleep {healthy_for}; rm /tmp/ready; sleep {int(timeout) + 30}"
    check = "test -f /tmp/ready || { echo 'not ready: /tmp/ready is missing'; exit 1; }"
    ctr = c.containers.run(
        image,
        ["sh", "-c", cmd],
        detach=True,
        labels=kit_labels(ROLE),
        healthcheck={
            "test": ["CMD-SHELL", check],
            "interval": int(interval * _NS),
            "timeout": int(2 * _NS),
            "retries": retries,
            "start_period": 0,
        },
    )
    try:
        wait = wait_health(ctr, timeout, until=lambda s, _t: s.health == "unhealthy", poll=0.25)
    finally:
        ctr.remove(force=True)
    timeline = pd.DataFrame(wait.timeline, columns=["seconds", "status"])
    return HealthResult(timeline, wait.state.last_probe, wait.state.failing_streak, retries)


@dataclass
class MemoryResult:
    """A process that asks for more memory than its container may use.

    Attributes:
        limit_bytes: The limit given (``--memory``).
        requested_mb: How much the process tried to allocate.
        exit_code: The container's exit status (137 = killed by SIGKILL).
        oom_killed: What ``docker inspect`` says in ``State.OOMKilled``.
        reached_mb: The last amount the process reported holding before it died.
    """

    limit_bytes: int
    requested_mb: int
    exit_code: int
    oom_killed: bool
    reached_mb: int


def memory_limit_demo(
    limit_mb: int = 48, request_mb: int = 200, image: str | None = None, client: Any = None
) -> MemoryResult:
    """Allocate ``request_mb`` MB in steps of 8 MB inside a container limited to ``limit_mb`` MB (no swap)."""
    code = (
        f"import sys\nchunks=[]\nfor i in range(1, {request_mb} // 8 + 1):\n    chunks.append(bytearray(8*1024*1024))\n"
        "    print(i*8, flush=True)\n"
    )
    limit = limit_mb * 1024 * 1024
    run = run_once(["python3", "-c", code], image=image, client=client, mem_limit=limit, memswap_limit=limit)
    numbers = [int(x) for x in run.output.split() if x.isdigit()]
    return MemoryResult(
        limit,
        request_mb,
        run.exit_code,
        bool(run.attrs.get("State", {}).get("OOMKilled")),
        numbers[-1] if numbers else 0,
    )
