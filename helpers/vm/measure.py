"""Measure an app as a container: size, start-up, memory, CPU time, replicas in a budget.

Every figure is measured on this machine, now, and returned in a tidy DataFrame (one row
per figure: ``platform``, ``metric``, ``value``, ``unit``, ``source``, ``note``). Every
measurement is bounded (timeouts, a maximum number of requests and replicas) and every
container is labelled and removed before the function returns.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.client import ROLE_LABEL, SESSION_LABEL, engine_info, get_client, kit_labels, session_id
from helpers.errors import ContainerError, EngineUnavailable, HealthTimeout, ImageNotFound
from helpers.images.build import build
from helpers.paths import course_root
from helpers.vm.loadgen import free_port, loopback_load, wait_for_http
from helpers.vm.usage import container_usage

__all__ = [
    "AppImage",
    "COLUMNS",
    "measurement_row",
    "measure_app_image",
    "measure_container",
    "replicas_in_budget",
    "describe_environment",
    "measure_leftovers",
]

#: Columns of every measurement DataFrame.
COLUMNS = ["platform", "metric", "value", "unit", "source", "note"]
ROLE = "measure"
MIB = 1024 * 1024

_SAMPLE_APP_DOCKERFILE = """\
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
WORKDIR /srv
COPY requirements.txt .
# psycopg2 is left out: it needs a compiler, and the measurement uses SQLite
RUN grep -v '^psycopg2' requirements.txt > req.txt && pip install --no-cache-dir -r req.txt && rm req.txt
COPY app ./app
ENV PORT=8000 DATA_DIR=/srv/data
EXPOSE 8000
CMD ["python", "-m", "app"]
"""

_HTTP_SERVER_DOCKERFILE = """\
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
WORKDIR /srv
RUN echo ok > health
EXPOSE 8000
CMD ["python3", "-m", "http.server", "8000"]
"""


@dataclass(frozen=True)
class AppImage:
    """An image to measure and how to reach it.

    Attributes:
        ref: Image reference.
        port: Port the app listens on inside the container (or the VM).
        path: A path that answers HTTP 200 when the app is up.
        description: What the image runs, for the printed environment.
    """

    ref: str
    port: int = 8000
    path: str = "/health"
    description: str = ""


def measure_app_image(
    client: Any = None, tag: str = "course-measure/app:latest", app_dir: str | Path | None = None, timeout: int = 600
) -> AppImage:
    """Build the image the measurements use by default (cached after the first build).

    The course's sample app (FastAPI + uvicorn) on the slim base image when
    ``sample_python_app/`` is in the course; else Python's ``http.server``.

    Args:
        client: docker-py client (connects lazily).
        tag: Reference of the image to build.
        app_dir: Folder of the app (default: ``sample_python_app`` in the course root).
        timeout: Seconds before the build is stopped.

    Returns:
        An :class:`AppImage`.

    Raises:
        BuildError: The build failed.
        EngineUnavailable: No engine answers.
    """

    app = Path(app_dir) if app_dir else course_root() / "sample_python_app"
    if (app / "requirements.txt").is_file() and (app / "app").is_dir():
        build(
            app,
            dockerfile_text=_SAMPLE_APP_DOCKERFILE,
            tags=[tag],
            labels=kit_labels(ROLE),
            timeout=timeout,
            client=client,
        )
        return AppImage(tag, 8000, "/health", "sample_python_app (FastAPI + uvicorn, SQLite) on the slim base")
    with tempfile.TemporaryDirectory(prefix="course-measure-") as ctx:
        build(
            ctx,
            dockerfile_text=_HTTP_SERVER_DOCKERFILE,
            tags=[tag],
            labels=kit_labels(ROLE),
            timeout=timeout,
            client=client,
        )
    return AppImage(tag, 8000, "/health", "python3 -m http.server on the slim base (sample app not found)")


def measurement_row(
    platform: str, metric: str, value: float, unit: str, source: str = "measured", note: str = ""
) -> dict[str, Any]:
    """One row of a measurement DataFrame."""
    return {"platform": platform, "metric": metric, "value": float(value), "unit": unit, "source": source, "note": note}


def _run(c: Any, app: AppImage, host_port: int, mem_limit: str | None = None) -> Any:
    from docker.errors import APIError
    from docker.errors import ImageNotFound as _NF

    try:
        return c.containers.run(
            app.ref,
            detach=True,
            name=f"course-measure-{uuid.uuid4().hex[:8]}",
            ports={f"{app.port}/tcp": ("127.0.0.1", host_port)},
            labels=kit_labels(ROLE),
            mem_limit=mem_limit,
        )
    except _NF as e:
        raise ImageNotFound(app.ref, hint="Build it first (helpers.measure_app_image()).") from e
    except APIError as e:
        raise ContainerError(f"Could not start {app.ref}: {e.explanation}") from e


def _remove(container: Any) -> None:
    from docker.errors import APIError, NotFound

    try:
        container.remove(force=True)
    except (NotFound, APIError):
        pass


def _wait(container: Any, app: AppImage, port: int, timeout: float) -> float:
    def alive() -> bool:
        container.reload()
        return container.status in ("created", "running")

    try:
        return wait_for_http(port, app.path, timeout, alive=alive)
    except HealthTimeout as e:
        tail = container.logs(tail=10).decode(errors="replace")
        raise HealthTimeout(e.message, container=container.name, log_tail=tail, hint=e.hint) from e


def measure_container(
    app: AppImage,
    client: Any = None,
    timeout: float = 60,
    idle_seconds: float = 2.0,
    load_seconds: float = 3.0,
    concurrency: int = 4,
) -> Any:
    """Run one container of ``app`` and measure it; the container is removed afterwards.

    Figures: image size, run-to-first-HTTP-200, memory at idle and under a short loopback
    load (page cache excluded), CPU seconds to start and during the load, requests per second.

    Args:
        app: The image and its health path.
        client: docker-py client (connects lazily).
        timeout: Seconds to wait for the first HTTP 200.
        idle_seconds: Seconds to let the app settle before reading idle memory.
        load_seconds: Length of the load run (bounded; 0 skips it).
        concurrency: Load threads.

    Returns:
        A DataFrame with :data:`COLUMNS`.

    Raises:
        HealthTimeout: No HTTP 200 in time (carries the container log tail).
        ImageNotFound: The image is not on the engine.
    """
    import pandas as pd

    c = get_client(client)
    size = c.images.get(app.ref).attrs.get("Size", 0)
    port = free_port()
    start = time.monotonic()
    ctr = _run(c, app, port)
    try:
        waited = _wait(ctr, app, port, timeout)
        startup = time.monotonic() - start
        time.sleep(idle_seconds)
        idle, cpu_start = container_usage(ctr)
        peak = [idle]
        load = (
            loopback_load(
                port, app.path, load_seconds, concurrency, on_tick=lambda: peak.append(container_usage(ctr)[0])
            )
            if load_seconds > 0
            else None
        )
        loaded, cpu_end = container_usage(ctr)
        peak.append(loaded)
    finally:
        _remove(ctr)
    p = "container"
    rows = [
        measurement_row(p, "image size", size / MIB, "MiB", note="docker image size"),
        measurement_row(p, "start-up", startup, "s", note=f"docker run to first HTTP 200 (polled {waited:.2f} s)"),
        measurement_row(p, "memory idle", idle / MIB, "MiB", note="cgroup memory without page cache"),
        measurement_row(p, "CPU to start", cpu_start, "s", note="CPU seconds used until idle"),
    ]
    if load is not None:
        rows += [
            measurement_row(
                p,
                "memory under load",
                max(peak) / MIB,
                "MiB",
                note=f"peak of {len(peak)} samples, {concurrency} loopback clients",
            ),
            measurement_row(p, "CPU during load", cpu_end - cpu_start, "s", note=f"{load.seconds:.1f} s of load"),
            measurement_row(
                p, "requests per second", load.per_second, "req/s", note=f"{load.requests} ok, {load.errors} errors"
            ),
        ]
    return pd.DataFrame(rows, columns=COLUMNS)


def replicas_in_budget(
    app: AppImage,
    budget_mib: float = 512,
    max_replicas: int = 6,
    client: Any = None,
    timeout: float = 60,
    settle_seconds: float = 1.0,
) -> Any:
    """Start replicas one by one until the next one would not fit the memory budget.

    Stops at ``max_replicas`` whatever the budget. Every replica is removed afterwards.

    Args:
        app: The image and its health path.
        budget_mib: Memory budget in MiB.
        max_replicas: Never start more than this many.
        client: docker-py client (connects lazily).
        timeout: Seconds each replica has to answer HTTP 200.
        settle_seconds: Pause after each start before reading memory.

    Returns:
        DataFrame: ``replicas``, ``total_mib``, ``per_replica_mib``, ``budget_mib``, ``fits``
        (one row per replica started), with ``attrs["fit"]``: how many fit in the budget,
        measured (or extrapolated from the mean when ``max_replicas`` stopped the run first).
    """
    import pandas as pd

    c = get_client(client)
    started: list[Any] = []
    rows: list[dict[str, Any]] = []
    try:
        while len(started) < max_replicas:
            port = free_port()
            ctr = _run(c, app, port)
            started.append(ctr)
            _wait(ctr, app, port, timeout)
            time.sleep(settle_seconds)
            total = sum(container_usage(x)[0] for x in started) / MIB
            n = len(started)
            rows.append(
                {
                    "replicas": n,
                    "total_mib": total,
                    "per_replica_mib": total / n,
                    "budget_mib": budget_mib,
                    "fits": total <= budget_mib,
                }
            )
            if total + total / n > budget_mib:  # the next one would not fit
                break
    finally:
        for ctr in started:
            _remove(ctr)
    df = pd.DataFrame(rows, columns=["replicas", "total_mib", "per_replica_mib", "budget_mib", "fits"])
    fitting = df[df["fits"]]
    measured_fit = int(fitting["replicas"].max()) if len(fitting) else 0
    mean = float(df["per_replica_mib"].iloc[-1]) if len(df) else 0.0
    extrapolated = int(budget_mib // mean) if mean else 0
    df.attrs["fit"] = max(measured_fit, extrapolated) if len(df) == max_replicas else measured_fit
    df.attrs["extrapolated"] = len(df) == max_replicas and extrapolated > measured_fit
    return df


def measure_leftovers(client: Any = None) -> list[str]:
    """Names of measurement containers this session left behind (there should be none)."""

    labels = [f"{ROLE_LABEL}={ROLE}", f"{SESSION_LABEL}={session_id()}"]
    return [c.name for c in get_client(client).containers.list(all=True, filters={"label": labels})]


def _host_memory_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def describe_environment(client: Any = None, vm_accel: str = "", qemu_version: str = "") -> Any:
    """What was measured on: engine version, KVM or emulation, cores, memory.

    Args:
        client: docker-py client; when no engine answers the row says so.
        vm_accel: "kvm", "tcg", or "" when no VM ran.
        qemu_version: qemu's version, when a VM ran.

    Returns:
        DataFrame with ``item`` and ``value``.
    """
    import os
    import platform

    import pandas as pd

    try:
        info = engine_info(client)
        engine = f"Docker Engine {info.version} (API {info.api_version}), {info.storage_driver}, cgroup v{info.cgroup_version}"
    except EngineUnavailable:
        engine = "no engine answered"
    accel = {"kvm": "KVM (hardware virtualization)", "tcg": "TCG (software emulation: much slower than KVM)"}.get(
        vm_accel, "no VM was started"
    )
    rows = [
        ("engine", engine),
        ("VM acceleration", accel + (f", qemu {qemu_version}" if qemu_version else "")),
        ("CPU cores", str(os.cpu_count())),
        ("memory", f"{_host_memory_bytes() / 1024**3:.1f} GiB"),
        ("host kernel", platform.release()),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
