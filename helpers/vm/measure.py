"""Measure an app as a container: size, start-up, memory, CPU time, replicas in a budget.

Every figure is measured on this machine, now, and returned in a tidy DataFrame (one row
per figure: ``platform``, ``metric``, ``value``, ``unit``, ``source``, ``note``). Every
measurement is bounded (timeouts, a maximum number of requests and replicas) and every
container is labelled and removed before the function returns. The image comes from
:mod:`helpers.vm.appimage`, the rows from :mod:`helpers.vm.results`; the same app as a VM is
measured by :mod:`helpers.vm.qemu`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from helpers.engine.client import ROLE_LABEL, SESSION_LABEL, get_client, kit_labels, session_id
from helpers.errors import ContainerError, HealthTimeout, ImageNotFound
from helpers.images.health import container_health, log_tail
from helpers.vm.appimage import ROLE, AppImage
from helpers.vm.loadgen import free_port, loopback_load, wait_for_http
from helpers.vm.results import COLUMNS, MIB, load_rows, measurement_row
from helpers.vm.usage import container_usage

__all__ = ["measure_container", "replicas_in_budget", "measure_leftovers"]


def _run(c: Any, app: AppImage, host_port: int, mem_limit: str | None = None) -> Any:
    """Start one labelled container of ``app`` with its port on ``127.0.0.1:host_port``."""
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
    """Remove a measurement container, whatever state it is in (gone already is fine)."""
    from docker.errors import APIError, NotFound

    try:
        container.remove(force=True)
    except (NotFound, APIError):
        pass


def _wait(container: Any, app: AppImage, port: int, timeout: float) -> float:
    """Seconds until the app answers HTTP 200 (a HealthTimeout with the log tail if it stops or never answers)."""

    def alive() -> bool:
        return container_health(container).status in ("created", "running")

    try:
        return wait_for_http(port, app.path, timeout, alive=alive)
    except HealthTimeout as e:
        raise HealthTimeout(e.message, container=container.name, log_tail=log_tail(container, 10), hint=e.hint) from e


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
        note = f"peak of {len(peak)} samples, {concurrency} loopback clients"
        rows += load_rows(p, peak, cpu_end - cpu_start, load, note)
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
    _fit(df, budget_mib, max_replicas)
    return df


def _fit(df: Any, budget_mib: float, max_replicas: int) -> None:
    """Set ``attrs["fit"]`` (replicas that fit the budget) and ``attrs["extrapolated"]`` on a replicas frame.

    When ``max_replicas`` stopped the run before the budget did, the fit is extrapolated from the mean.
    """
    fitting = df[df["fits"]]
    measured_fit = int(fitting["replicas"].max()) if len(fitting) else 0
    mean = float(df["per_replica_mib"].iloc[-1]) if len(df) else 0.0
    extrapolated = int(budget_mib // mean) if mean else 0
    df.attrs["fit"] = max(measured_fit, extrapolated) if len(df) == max_replicas else measured_fit
    df.attrs["extrapolated"] = len(df) == max_replicas and extrapolated > measured_fit


def measure_leftovers(client: Any = None) -> list[str]:
    """Names of measurement containers this session left behind (there should be none)."""

    labels = [f"{ROLE_LABEL}={ROLE}", f"{SESSION_LABEL}={session_id()}"]
    return [c.name for c in get_client(client).containers.list(all=True, filters={"label": labels})]
