"""Run a container, wait until it is ready, and always be able to remove it.

:func:`run_container` starts an image with its ports published on 127.0.0.1, waits (with
:func:`helpers.images.health.wait_health`) until the container's HEALTHCHECK says healthy or an
HTTP path answers, and returns a :class:`helpers.images.running.RunningContainer` (a context
manager that removes the container on exit). When the container exits, never becomes ready,
or a port is taken, the container is removed and the error carries the last lines of its log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helpers.engine.client import get_client, kit_labels
from helpers.errors import ContainerError, HealthTimeout, ImageNotFound, PortInUse
from helpers.images.health import HealthState, HealthWait, wait_health
from helpers.images.running import (
    HttpAnswer,
    RunningContainer,
    port_free,
    remove_container,
)

__all__ = ["run_container", "attach_container", "SANDBOX_LIMITS"]

#: Unprivileged limits for running code we do not trust (graded submissions).
SANDBOX_LIMITS: dict[str, Any] = {
    "mem_limit": "256m",
    "pids_limit": 128,
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
}


def run_container(
    image: str,
    ports: Mapping[int, int | None] | Sequence[int] = (8000,),
    env: Mapping[str, str] | None = None,
    command: str | Sequence[str] | None = None,
    wait_http: str | None = "/health",
    wait_healthy: bool = False,
    timeout: float = 30,
    name: str | None = None,
    volumes: Mapping[str, Mapping[str, str]] | None = None,
    sandbox: bool = False,
    client: Any = None,
    **run_kwargs: Any,
) -> RunningContainer:
    """Start a container and wait until it is ready.

    Args:
        image: Image reference or id.
        ports: Container ports to publish on 127.0.0.1: a list (random free host ports) or a
            mapping container port -> host port (``None``: random).
        env: Environment variables.
        command: Override the image's CMD.
        wait_http: Wait until GET of this path on the first port answers with a status < 500
            (``None``: do not wait for HTTP).
        wait_healthy: Also wait until the image's HEALTHCHECK reports healthy.
        timeout: Seconds to wait for readiness.
        name: Container name (default: chosen by the engine).
        volumes: docker-py volumes mapping.
        sandbox: Apply :data:`SANDBOX_LIMITS` (for code you do not trust).
        client: docker-py client (connects lazily).
        **run_kwargs: More ``containers.run`` arguments.

    Returns:
        A :class:`RunningContainer`; use it in a ``with`` block so it is removed.

    Raises:
        PortInUse: A requested host port is taken (nothing is left running).
        ImageNotFound: The image does not exist.
        ContainerError: The container exited before it was ready (with its log).
        HealthTimeout: It did not become ready in ``timeout`` seconds (with its log).
    """
    c = get_client(client)
    wanted = dict(ports) if isinstance(ports, Mapping) else {int(p): None for p in ports}
    for host in wanted.values():
        if host is not None and not port_free(host):
            raise PortInUse(host)
    create = dict(command=command, environment=dict(env or {}), name=name, volumes=volumes or {})
    ctr = _start(c, image, wanted, {**create, **(SANDBOX_LIMITS if sandbox else {}), **run_kwargs})
    try:
        ctr.reload()
        handle = RunningContainer(ctr, _host_ports(ctr, wanted))
        _wait_ready(handle, image, wait_http, wait_healthy, timeout)
    except BaseException:
        remove_container(ctr)
        raise
    return handle


def attach_container(
    name: str,
    ports: Sequence[int] = (8000,),
    wait_http: str | None = "/health",
    timeout: float = 30,
    client: Any = None,
) -> RunningContainer:
    """A container you started yourself (``docker run -d --name NAME -p 127.0.0.1::8000 ...``), ready to observe.

    Reads the published host ports the way ``docker port NAME`` shows them, then waits like
    :func:`run_container` until ``GET wait_http`` answers. The container is yours: leaving a ``with``
    block removes it, so use the handle without one and stop it with ``docker stop`` / ``docker rm``.

    Raises:
        ContainerError: No container of that name, it publishes none of ``ports``, or it stopped (with its log).
        HealthTimeout: It did not answer in ``timeout`` seconds (with its log).
    """
    from docker.errors import NotFound

    try:
        ctr = get_client(client).containers.get(name)
    except NotFound as e:
        raise ContainerError(f"No container named {name}", hint="Start it with `docker run -d --name ...`.") from e
    handle = RunningContainer(ctr, _host_ports(ctr, {int(p): None for p in ports}))
    if not handle.ports:
        raise ContainerError(
            f"{name} publishes none of the ports {list(ports)} (state: {ctr.status})",
            name,
            log_tail=handle.logs(),
            hint="Run it with `-p 127.0.0.1::8000`; if it exited, read its log (`docker logs`).",
        )
    _wait_ready(handle, name, wait_http, False, timeout)
    return handle


def _start(c: Any, image: str, wanted: Mapping[int, int | None], create: Mapping[str, Any]) -> Any:
    """Create and start the container (removed again when it cannot start)."""
    from docker.errors import APIError
    from docker.errors import ImageNotFound as _NF

    publish = {f"{cp}/tcp": ("127.0.0.1", hp) for cp, hp in wanted.items()}
    try:
        ctr = c.containers.create(image, ports=publish, labels=kit_labels("lab"), detach=True, **create)
    except _NF as e:
        raise ImageNotFound(image) from e
    try:
        ctr.start()
    except APIError as e:
        remove_container(ctr)
        text = str(getattr(e, "explanation", "") or e)
        if "already allocated" in text or "address already in use" in text:
            raise PortInUse(_port_in(text, wanted)) from e
        raise ContainerError(f"The engine could not start {image}: {text}") from e
    return ctr


def _wait_ready(h: RunningContainer, image: str, path: str | None, healthy: bool, timeout: float) -> None:
    """Wait until the HTTP path answers (< 500) and, when asked, the HEALTHCHECK says healthy."""
    last = HttpAnswer(0, error="not tried yet")

    def ready(state: HealthState, _waited: float) -> bool:
        nonlocal last
        if state.stopped:
            return True
        http_ok = path is None or bool((last := h.get(path, timeout=2)).status and last.status < 500)
        return http_ok and (not healthy or state.health in ("healthy", "none"))

    wait = wait_health(h.container, timeout, until=ready, poll=0.25)
    state = wait.state
    if state.stopped:
        raise ContainerError(
            f"The container of {image} stopped before it was ready",
            h.name,
            state.exit_code,
            h.logs(),
            hint="Read the log above: the CMD failed. Fix it and build again.",
        )
    if not wait.timed_out and healthy and state.health == "none":
        raise HealthTimeout(
            f"{image} has no HEALTHCHECK, so it can never turn healthy",
            h.name,
            log_tail=h.logs(),
            hint="Add a HEALTHCHECK instruction to the Dockerfile.",
        )
    if wait.timed_out:
        _raise_not_ready(h, image, path, healthy, timeout, wait, last)


def _raise_not_ready(
    h: RunningContainer, image: str, path: str | None, healthy: bool, timeout: float, wait: HealthWait, last: HttpAnswer
) -> None:
    """Raise HealthTimeout saying what was not ready: the HTTP answer, the health verdict."""
    what = []
    if path is not None and not (last.status and last.status < 500):
        what.append(f"GET {path} " + (f"answered {last.status}" if last.status else f"failed ({last.error})"))
    if healthy and wait.state.health != "healthy":
        probe = f" (last probe {wait.probe_tail})" if wait.probe_tail else ""
        what.append(f"health is {wait.state.health!r}" + probe)
    raise HealthTimeout(
        f"{image} was not ready after {timeout:.0f} s: " + "; ".join(what),
        h.name,
        log_tail=h.logs() or "(the container printed nothing)",
        hint="Check that the app listens on 0.0.0.0 and the published port, and read its log.",
    )


def _host_ports(ctr: Any, wanted: Mapping[int, int | None]) -> dict[int, int]:
    out: dict[int, int] = {}
    published = ctr.attrs.get("NetworkSettings", {}).get("Ports") or {}
    for cp in wanted:
        bindings = published.get(f"{cp}/tcp") or []
        if bindings:
            out[cp] = int(bindings[0]["HostPort"])
    return out


def _port_in(text: str, wanted: Mapping[int, int | None]) -> int:
    for host in wanted.values():
        if host is not None and str(host) in text:
            return host
    return next((h for h in wanted.values() if h is not None), 0)
