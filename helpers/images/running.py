"""A running container as an object: its URL, HTTP answers, state, health, logs, exec, removal.

:func:`helpers.images.run.run_container` returns a :class:`RunningContainer`; this module holds
that handle and the small values it returns (:class:`HttpAnswer`, :class:`ExecResult`), apart
from the start-and-wait logic.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from helpers.bounded import OUTPUT_CAP, CapBuffer, close_quietly
from helpers.images.health import HealthState, container_health, log_tail

__all__ = [
    "RunningContainer",
    "HttpAnswer",
    "ExecResult",
    "EXEC_TIMEOUT",
    "exec_capped",
    "http_get",
    "port_free",
    "remove_container",
]


@dataclass
class HttpAnswer:
    """An HTTP answer: status 0 means nothing answered (``error`` says why)."""

    status: int
    body: str = ""
    error: str = ""

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


#: Seconds a command run by :func:`exec_capped` may take before its container is killed.
EXEC_TIMEOUT = 120.0


@dataclass
class ExecResult:
    """The result of a command run inside a container.

    Attributes:
        exit_code: The command's exit code (-1 when it timed out or cannot be read).
        output: stdout and stderr, at most the cap's worth of their tail (``cut`` says when longer).
        cut: The command printed more than the cap; ``output`` starts with a line saying so.
        timed_out: The command ran past its time limit; its container was killed.
    """

    exit_code: int
    output: str
    cut: bool = False
    timed_out: bool = False


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


#: the most of a response body :func:`http_get` reads (a student's server may send without end)
HTTP_BODY_CAP = 64 << 10


def http_get(url: str, timeout: float = 3.0, cap: int = HTTP_BODY_CAP) -> HttpAnswer:
    """GET ``url``; never raises (a refused connection is status 0).

    Reads at most ``cap`` bytes of the body and stops after ``timeout`` seconds in all, so a server
    that answers a byte at a time cannot hold the caller longer than that.
    """
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # local URLs only
            return HttpAnswer(r.status, _read_body(r, cap, deadline))
    except urllib.error.HTTPError as e:
        return HttpAnswer(e.code, _read_body(e, cap, deadline))
    except (urllib.error.URLError, OSError, ValueError) as e:
        return HttpAnswer(0, error=str(getattr(e, "reason", e)))


def _read_body(response: Any, cap: int, deadline: float) -> str:
    """Up to ``cap`` bytes of a response body, read until ``deadline`` (whatever has come by then)."""
    chunks: list[bytes] = []
    size = 0
    while size < cap and time.monotonic() < deadline:
        chunk = response.read1(min(4096, cap - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks).decode(errors="replace")


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
        """The last ``tail`` lines of the container's output (at most :data:`helpers.bounded.LOG_CAP` bytes)."""
        return log_tail(self.container, tail).rstrip()

    def exec(
        self,
        cmd: str | Sequence[str],
        user: str | None = None,
        workdir: str | None = None,
        timeout: float = EXEC_TIMEOUT,
    ) -> ExecResult:
        """Run a command inside the container (``docker exec``), within :func:`exec_capped`'s bounds."""
        return exec_capped(self.container, cmd, user=user, workdir=workdir, timeout=timeout)

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


def exec_capped(
    container: Any,
    cmd: str | Sequence[str],
    user: str | None = None,
    workdir: str | None = None,
    timeout: float = EXEC_TIMEOUT,
    max_bytes: int = OUTPUT_CAP,
) -> ExecResult:
    """Run a command in a (possibly hostile) container, reading its output as a stream within bounds.

    Unlike ``container.exec_run``, which holds the whole output in memory (twice), this keeps only
    the last ``max_bytes`` and stops waiting after ``timeout`` seconds: the engine cannot stop one
    exec process, so the container is killed (a grader's container is thrown away after its checks).

    Args:
        container: docker-py Container.
        cmd: The command (argv list, or a string the engine splits).
        user: Run as this user (default: the image's USER).
        workdir: Working directory inside the container.
        timeout: Seconds the command may run.
        max_bytes: Bytes of output to keep (the tail; the result says when it was cut).

    Returns:
        An :class:`ExecResult`; a timeout is recorded in it (``timed_out``, exit code -1), not raised.
    """
    api = container.client.api
    exec_id = api.exec_create(container.id, cmd, stdout=True, stderr=True, user=user or "", workdir=workdir)["Id"]
    deadline = time.monotonic() + timeout
    stream = api.exec_start(exec_id, stream=True, demux=False)
    _no_read_timeout(api, stream)
    buf = CapBuffer(max_bytes, keep="tail")
    reader = threading.Thread(target=_pump, args=(stream, buf), name=f"exec-{exec_id[:12]}", daemon=True)
    reader.start()
    reader.join(timeout)
    info = api.exec_inspect(exec_id) if not reader.is_alive() else {"Running": True}
    while info.get("Running") and time.monotonic() < deadline:  # the read ended early (a client-side timeout)
        time.sleep(0.2)
        info = api.exec_inspect(exec_id)
    if info.get("Running"):
        _kill(container)
        close_quietly(stream)
        reader.join(5)
        out = buf.result()
        note = f"[the command ran past {timeout:.0f} s; its container was killed]\n"
        return ExecResult(-1, note + out.text(), out.cut, timed_out=True)
    out = buf.result()
    code = info.get("ExitCode")
    return ExecResult(int(code) if code is not None else -1, out.text(), out.cut)


def _pump(stream: Iterable[bytes], buf: CapBuffer) -> None:
    """Read a stream into ``buf`` until it ends or breaks (a kill breaks it)."""
    try:
        for chunk in stream:
            if chunk:
                buf.add(chunk)
    except Exception:  # noqa: BLE001 - a broken stream ends the read; the caller checks the exec's state
        pass
    finally:
        close_quietly(stream)


def _no_read_timeout(api: Any, stream: Any) -> None:
    """Let the exec stream wait past the client's read timeout (this function keeps its own); best effort."""
    try:
        api._disable_socket_timeout(api._get_raw_response_socket(stream._response))
    except Exception:  # noqa: BLE001 - then exec_capped polls the exec's state instead
        pass


def _kill(container: Any) -> None:
    """Kill a container whose command ran too long (already gone is fine)."""
    from docker.errors import APIError, NotFound

    try:
        container.kill()
    except (APIError, NotFound):
        pass


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
