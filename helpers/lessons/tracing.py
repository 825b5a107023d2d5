"""Client -> daemon -> registry, traced live: every HTTP request docker-py sends to the
daemon's REST API (a ``requests`` response hook on the SDK's session), and a push to and a
pull from a registry, timed.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client, session_id
from helpers.errors import RegistryAuthError, RegistryError
from helpers.images.build import build
from helpers.lessons.common import lesson_image, run_once

__all__ = ["ApiCall", "trace_api", "calls_frame", "traced_container_run", "PushPullReport", "push_pull_demo"]

_VERSION = re.compile(r"^/v\d+\.\d+")


@dataclass
class ApiCall:
    """One HTTP request the SDK sent to the daemon.

    Attributes:
        method: HTTP method.
        path: URL path without the API version prefix (query string dropped).
        status: HTTP status code of the answer.
        ms: Time until the answer's headers arrived (milliseconds).
    """

    method: str
    path: str
    status: int
    ms: float

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _path(url: str) -> str:
    path = re.sub(r"^[a-z+]+://[^/]+", "", url).split("?", 1)[0]
    path = re.sub(r"[0-9a-f]{64}", lambda m: m.group(0)[:12], path)
    return _VERSION.sub("", path) or "/"


@contextmanager
def trace_api(client: Any = None) -> Iterator[list[ApiCall]]:
    """Record every request the client sends while the block runs.

    Usage::

        with trace_api(client) as calls:
            client.containers.run(...)
        calls_frame(calls)

    Args:
        client: docker-py client (connects lazily).

    Yields:
        The list the calls are appended to.
    """
    c = get_client(client)
    calls: list[ApiCall] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(
            ApiCall(
                response.request.method,
                _path(response.request.url),
                response.status_code,
                response.elapsed.total_seconds() * 1000,
            )
        )
        return response

    hooks = c.api.hooks.setdefault("response", [])
    hooks.append(hook)
    try:
        yield calls
    finally:
        hooks.remove(hook)


def calls_frame(calls: list[ApiCall]) -> Any:
    """The calls as a DataFrame (method, path, status, ms)."""
    import pandas as pd

    return pd.DataFrame([c.__dict__ for c in calls], columns=["method", "path", "status", "ms"])


def traced_container_run(
    image: str | None = None, command: str = "echo hello from a container", client: Any = None
) -> tuple[str, list[ApiCall]]:
    """What ``docker run --rm IMAGE CMD`` is made of: the API calls of one container's life.

    Returns:
        The container's output and the calls the SDK made.
    """

    c = get_client(client)
    image = image or lesson_image(client=c)
    with trace_api(c) as calls:
        out = run_once(command, image=image, client=c)
    return out.output.strip(), calls


@dataclass
class PushPullReport:
    """A push to a registry and a pull back from it.

    Attributes:
        reference: The image reference pushed (registry/repository:tag).
        digest: The manifest digest the registry returned.
        push_seconds: Time of the first push.
        repush_seconds: Time of the second push (layers already there).
        pull_seconds: Time of the pull after the local copy was removed.
        first_push_status: Progress statuses of the first push (status -> count).
        repush_status: Progress statuses of the second push (status -> count).
        calls: API calls the SDK made during all of it.
        deleted: True when the pushed manifest was deleted from the registry afterwards.
    """

    reference: str
    digest: str
    push_seconds: float
    repush_seconds: float
    pull_seconds: float
    first_push_status: dict[str, int] = field(default_factory=dict)
    repush_status: dict[str, int] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)
    deleted: bool = False


def _delete_manifest(address: str, repository: str, digest: str, auth: dict[str, str]) -> bool:
    """Delete a manifest through the registry's v2 API (the blobs go at its next garbage collection)."""
    import requests

    if not digest:
        return False
    try:
        r = requests.delete(
            f"http://{address}/v2/{repository}/manifests/{digest}",
            auth=(auth["username"], auth["password"]),
            timeout=10,
        )
    except requests.RequestException:
        return False
    return r.status_code in (200, 202)


def _push(c: Any, repo: str, tag: str, auth: dict[str, str]) -> tuple[dict[str, int], str]:
    statuses: dict[str, int] = {}
    digest = ""
    for ev in c.images.push(repo, tag=tag, auth_config=auth, stream=True, decode=True):
        if "error" in ev:
            msg = str(ev["error"])
            if "unauthorized" in msg.lower() or "authentication" in msg.lower():
                raise RegistryAuthError(repo.split("/", 1)[0])
            raise RegistryError(
                f"The push of {repo}:{tag} failed: {msg}",
                "Check that the registry runs: `python -m helpers env status`.",
            )
        status = str(ev.get("status", ""))
        if status and ev.get("id"):
            statuses[status] = statuses.get(status, 0) + 1
        digest = ev.get("aux", {}).get("Digest", digest) if isinstance(ev.get("aux"), dict) else digest
    return statuses, digest


def push_pull_demo(address: str, username: str, password: str, client: Any = None) -> PushPullReport:
    """Build a tiny image, push it to ``address``, push it again, delete it locally and pull it back.

    Every local image involved is labelled and removed at the end, and the pushed manifest is
    deleted from the registry (when it allows deletes); the tag carries the session id so
    parallel runs never collide.

    Args:
        address: Registry host:port (e.g. ``127.0.0.1:5000``).
        username: Registry user.
        password: Registry password.
        client: docker-py client (connects lazily).

    Returns:
        A :class:`PushPullReport`.

    Raises:
        RegistryError: The registry refused or could not be reached.
    """
    from docker.errors import APIError

    c = get_client(client)
    repo = f"{address}/course-lesson/hello"
    tag = re.sub(r"[^a-zA-Z0-9_.-]", "-", session_id())[:60] + f"-{int(time.time())}"
    ref = f"{repo}:{tag}"
    auth = {"username": username, "password": password}
    with tempfile.TemporaryDirectory(prefix="course-push-") as tmp:
        Path(tmp, "hello.txt").write_text(f"pushed at {time.time()}\n")
        build(tmp, dockerfile_text="FROM scratch\nCOPY hello.txt /\n", tags=[ref], client=c)
    try:
        with trace_api(c) as calls:
            t0 = time.monotonic()
            first, digest = _push(c, repo, tag, auth)
            t1 = time.monotonic()
            again, digest2 = _push(c, repo, tag, auth)
            t2 = time.monotonic()
            c.images.remove(ref, force=True)
            t3 = time.monotonic()
            try:
                c.images.pull(repo, tag=tag, auth_config=auth)
            except APIError as e:
                raise RegistryError(f"The pull of {ref} failed: {e.explanation}", "Check the registry.") from e
            t4 = time.monotonic()
    except APIError as e:
        raise RegistryError(
            f"The registry at {address} refused: {e.explanation}", "Check that it runs: `python -m helpers env status`."
        ) from e
    finally:
        try:
            c.images.remove(ref, force=True)
        except APIError:
            pass
    digest = digest or digest2
    deleted = _delete_manifest(address, repo.split("/", 1)[1], digest, auth)
    return PushPullReport(ref, digest, t1 - t0, t2 - t1, t4 - t3, first, again, calls, deleted)
