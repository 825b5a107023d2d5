"""Run a container, wait until it is ready, and always be able to remove it.

:func:`run_container` starts an image with its ports published on 127.0.0.1, waits until the
container's HEALTHCHECK says healthy or an HTTP path answers, and returns a
:class:`RunningContainer` (a context manager that removes the container on exit). When the
container exits, never becomes ready, or a port is taken, the container is removed and the
error carries the last lines of its log.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from helpers.engine.client import get_client, kit_labels
from helpers.errors import ContainerError, HealthTimeout, ImageNotFound, PortInUse

__all__ = ["run_container", "RunningContainer", "HttpAnswer", "ExecResult", "port_free", "SANDBOX_LIMITS"]

#: Unprivileged limits for running code we do not trust (graded submissions).
SANDBOX_LIMITS: dict[str, Any] = {
    "mem_limit": "256m",
    "pids_limit": 128,
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
}


@dataclass
class HttpAnswer:
    """An HTTP answer: status 0 means nothing answered (``error`` says why)."""

    status: int
    body: str = ""
    error: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ExecResult:
    """The result of a command run inside a container."""

    exit_code: int
    output: str


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` (the engine's own publications included)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        if s.connect_ex((host, port)) == 0:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def http_get(url: str, timeout: float = 3.0) -> HttpAnswer:
    """GET ``url``; never raises (a refused connection is status 0)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (local URLs only)
            return HttpAnswer(r.status, r.read().decode(errors="replace"))
    except urllib.error.HTTPError as e:
        return HttpAnswer(e.code, e.read().decode(errors="replace"))
    except (urllib.error.URLError, OSError, ValueError) as e:
        return HttpAnswer(0, error=str(getattr(e, "reason", e)))


class RunningContainer:
    """A container started by :func:`run_container`.

    Attributes:
        container: The docker-py Container.
        ports: container port -> host port on 127.0.0.1.
    """

    def __init__(self, container: Any, ports: Mapping[int, int]) -> None:
        self.container = container
        self.ports = dict(ports)

    # -- facts -----------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.container.name

    @property
    def id(self) -> str:
        return self.container.id

    def url(self, path: str = "/", port: int | None = None) -> str:
        """``http://127.0.0.1:HOSTPORT/path`` for a published container port (default: the first)."""
        cport = port if port is not None else next(iter(self.ports))
        return f"http://127.0.0.1:{self.ports[cport]}/{path.lstrip('/')}"

    def get(self, path: str = "/", timeout: float = 3.0) -> HttpAnswer:
        """GET a path of the app (see :class:`HttpAnswer`)."""
        return http_get(self.url(path), timeout)

    def status(self) -> str:
        """The container state: "running", "exited", ..."""
        self.container.reload()
        return self.container.status

    def health(self) -> str:
        """The HEALTHCHECK state ("starting", "healthy", "unhealthy"), or "none"."""
        self.container.reload()
        return self.container.attrs.get("State", {}).get("Health", {}).get("Status", "none")

    def logs(self, tail: int = 30) -> str:
        """The last ``tail`` lines of the container's output."""
        return _logs(self.container, tail)

    def exec(self, cmd: str | Sequence[str], user: str | None = None, workdir: str | None = None) -> ExecResult:
        """Run a command inside the container (``docker exec``)."""
        kwargs = {k: v for k, v in (("user", user), ("workdir", workdir)) if v}
        code, out = self.container.exec_run(cmd, demux=False, **kwargs)
        return ExecResult(int(code), (out or b"").decode(errors="replace"))

    # -- life cycle ------------------------------------------------------------
    def stop(self, timeout: int = 10) -> None:
        """Send SIGTERM (then SIGKILL after ``timeout`` s)."""
        self.container.stop(timeout=timeout)

    def remove(self) -> None:
        """Remove the container (and its anonymous volumes); safe to call twice."""
        _remove(self.container)

    def __enter__(self) -> RunningContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        ports = ", ".join(f"{c}->127.0.0.1:{h}" for c, h in self.ports.items())
        return f"<RunningContainer {self.name} {ports}>"


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
    from docker.errors import APIError
    from docker.errors import ImageNotFound as _NF

    c = get_client(client)
    wanted = dict(ports) if isinstance(ports, Mapping) else {int(p): None for p in ports}
    for host in wanted.values():
        if host is not None and not port_free(host):
            raise PortInUse(host)
    publish = {f"{cp}/tcp": ("127.0.0.1", hp) for cp, hp in wanted.items()}
    kwargs = {**(SANDBOX_LIMITS if sandbox else {}), **run_kwargs}
    try:
        ctr = c.containers.create(
            image,
            command=command,
            environment=dict(env or {}),
            ports=publish,
            name=name,
            labels=kit_labels("lab"),
            volumes=volumes or {},
            detach=True,
            **kwargs,
        )
    except _NF as e:
        raise ImageNotFound(image) from e
    try:
        ctr.start()
    except APIError as e:
        _remove(ctr)
        text = str(getattr(e, "explanation", "") or e)
        if "already allocated" in text or "address already in use" in text:
            raise PortInUse(_port_in(text, wanted)) from e
        raise ContainerError(f"The engine could not start {image}: {text}") from e
    try:
        ctr.reload()
        handle = RunningContainer(ctr, _host_ports(ctr, wanted))
        _wait_ready(handle, image, wait_http, wait_healthy, timeout)
    except BaseException:
        _remove(ctr)
        raise
    return handle


def _wait_ready(h: RunningContainer, image: str, path: str | None, healthy: bool, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = HttpAnswer(0, error="not tried yet")
    while True:
        state = h.status()
        if state in {"exited", "dead"}:
            code = h.container.attrs["State"].get("ExitCode")
            raise ContainerError(
                f"The container of {image} stopped before it was ready",
                h.name,
                code,
                h.logs(),
                hint="Read the log above: the CMD failed. Fix it and build again.",
            )
        http_ok = path is None or (last := h.get(path, timeout=2)).status and last.status < 500
        health = h.health() if healthy else "healthy"
        if http_ok and health in {"healthy", "none"}:
            if healthy and health == "none":
                raise HealthTimeout(
                    f"{image} has no HEALTHCHECK, so it can never turn healthy",
                    h.name,
                    log_tail=h.logs(),
                    hint="Add a HEALTHCHECK instruction to the Dockerfile.",
                )
            return
        if time.monotonic() > deadline:
            what = []
            if path is not None and not http_ok:
                what.append(f"GET {path} " + (f"answered {last.status}" if last.status else f"failed ({last.error})"))
            if healthy and health != "healthy":
                what.append(f"health is {health!r}" + _probe_tail(h))
            logs = h.logs() or "(the container printed nothing)"
            raise HealthTimeout(
                f"{image} was not ready after {timeout:.0f} s: " + "; ".join(what),
                h.name,
                log_tail=logs,
                hint="Check that the app listens on 0.0.0.0 and the published port, and read its log.",
            )
        time.sleep(0.25)


def _probe_tail(h: RunningContainer) -> str:
    log = h.container.attrs.get("State", {}).get("Health", {}).get("Log") or []
    if not log:
        return ""
    last = log[-1]
    return f" (last probe exit {last.get('ExitCode')}: {str(last.get('Output', '')).strip()[:200]})"


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


def _logs(ctr: Any, tail: int) -> str:
    from docker.errors import APIError, NotFound

    try:
        return ctr.logs(tail=tail).decode(errors="replace").rstrip()
    except (APIError, NotFound):
        return ""


def _remove(ctr: Any) -> None:
    from docker.errors import APIError, NotFound

    try:
        ctr.remove(force=True, v=True)
    except NotFound:
        pass
    except APIError as e:
        if "already in progress" not in str(e):
            raise
