"""Bounded HTTP checks on loopback: wait for the first 200, and a small load generator.

Used for containers and VMs alike, so both are measured the same way.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from helpers.errors import HealthTimeout

__all__ = ["free_port", "wait_for_http", "LoadResult", "loopback_load"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str, timeout: float, conn: http.client.HTTPConnection | None = None) -> int:
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        resp = c.getresponse()
        resp.read()
        return resp.status
    finally:
        if conn is None:
            c.close()


def wait_for_http(
    port: int, path: str = "/", timeout: float = 60.0, alive: Callable[[], bool] | None = None, interval: float = 0.05
) -> float:
    """Poll ``http://127.0.0.1:PORT/PATH`` until it answers 200; return the seconds waited.

    Args:
        port: Host port on 127.0.0.1.
        path: Path to GET.
        timeout: Seconds before giving up.
        alive: Called between attempts; when it returns False the wait stops early.
        interval: Seconds between attempts.

    Raises:
        HealthTimeout: No 200 within ``timeout`` or ``alive()`` turned False.
    """
    start = time.monotonic()
    while True:
        try:
            if _get(port, path, timeout=2.0) == 200:
                return time.monotonic() - start
        except (OSError, http.client.HTTPException):
            pass
        if alive is not None and not alive():
            raise HealthTimeout(f"The app stopped before answering HTTP 200 on port {port}.")
        if time.monotonic() - start > timeout:
            raise HealthTimeout(
                f"No HTTP 200 from 127.0.0.1:{port}{path} within {timeout:.0f} s.",
                hint="Read the log; raise the timeout on a slow machine.",
            )
        time.sleep(interval)


@dataclass
class LoadResult:
    """What a bounded load run did."""

    requests: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def loopback_load(
    port: int,
    path: str = "/",
    seconds: float = 3.0,
    concurrency: int = 4,
    max_requests: int = 5000,
    on_tick: Callable[[], None] | None = None,
) -> LoadResult:
    """GET a loopback URL from a few threads, bounded by time and by a request count.

    Args:
        port: Host port on 127.0.0.1.
        path: Path to GET.
        seconds: Stop after this long.
        concurrency: Threads, each with its own keep-alive connection.
        max_requests: Stop after this many requests in total.
        on_tick: Called about every 0.2 s from the calling thread (to sample memory).

    Returns:
        A :class:`LoadResult`.
    """
    lock = threading.Lock()
    count = {"ok": 0, "err": 0}
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        while time.monotonic() < deadline:
            with lock:
                if count["ok"] + count["err"] >= max_requests:
                    break
            try:
                ok = _get(port, path, 5, conn) == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            with lock:
                count["ok" if ok else "err"] += 1
        conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if on_tick:
            on_tick()
        time.sleep(0.2)
        if time.monotonic() > deadline + 10:  # a stuck request: never wait forever
            break
    return LoadResult(count["ok"], count["err"], time.monotonic() - start)
