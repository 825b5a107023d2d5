"""A running container as an object: its URL, HTTP answers, state, health, logs, exec, removal.

:func:`helpers.images.run.run_container` returns a :class:`RunningContainer`; this module holds
that handle and the small values it returns (:class:`HttpAnswer`, :class:`ExecResult`), apart
from the start-and-wait logic.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from helpers.images.health import HealthState, container_health

__all__ = ["RunningContainer", "HttpAnswer", "ExecResult", "http_get", "port_free", "remove_container"]


@dataclass
class HttpAnswer:
    """An HTTP answer: status 0 means nothing answered (``error`` says why)."""

    status: int
    body: str = ""
    error: str = ""

    def json(self) -> Any:
        """The body parsed as JSON."""
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
        with urllib.request.urlopen(url, timeout=timeout) as r:  # local URLs only
            return HttpAnswer(r.status, r.read().decode(errors="replace"))
    except urllib.error.HTTPError as e:
        return HttpAnswer(e.code, e.read().decode(errors="replace"))
    except (urllib.error.URLError, OSError, ValueError) as e:
        return HttpAnswer(0, error=str(getattr(e, "reason", e)))


class RunningContainer:
    """A container started by :func:`helpers.images.run.run_container`.

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

    def state(self) -> HealthState:
        """The container's state and health, read now."""
        return container_health(self.container)

    def status(self) -> str:
        """The container state: "running", "exited", ..."""
        return self.state().status

    def health(self) -> str:
        """The HEALTHCHECK state ("starting", "healthy", "unhealthy"), or "none"."""
        return self.state().health

    def logs(self, tail: int = 30) -> str:
        """The last ``tail`` lines of the container's output."""
        from docker.errors import APIError, NotFound

        try:
            return self.container.logs(tail=tail).decode(errors="replace").rstrip()
        except (APIError, NotFound):
            return ""

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
        remove_container(self.container)

    def __enter__(self) -> RunningContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        ports = ", ".join(f"{c}->127.0.0.1:{h}" for c, h in self.ports.items())
        return f"<RunningContainer {self.name} {ports}>"


def remove_container(ctr: Any) -> None:
    """Remove a container and its anonymous volumes; one already gone (or going) is fine."""
    from docker.errors import APIError, NotFound

    try:
        ctr.remove(force=True, v=True)
    except NotFound:
        pass
    except APIError as e:
        if "already in progress" not in str(e):
            raise
