"""Unit tests for helpers.images.running's bounded reads: exec output and logs of a hostile container (fakes)."""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

from helpers.bounded import LOG_CAP, OUTPUT_CAP
from helpers.images.health import log_tail
from helpers.images.running import RunningContainer, exec_capped


class FakeApi:
    """docker-py's low-level exec calls: the command prints ``total`` bytes, or hangs until killed."""

    def __init__(self, total: int = 0, hang: bool = False, code: int = 0, text: bytes = b"") -> None:
        self.total, self.hang, self.code, self.text = total, hang, code, text
        self.killed = threading.Event()
        self.created: list[tuple[Any, dict[str, Any]]] = []

    def exec_create(self, container: str, cmd: Any, **kwargs: Any) -> dict[str, str]:
        self.created.append((cmd, kwargs))
        return {"Id": "e" * 64}

    def exec_start(self, exec_id: str, stream: bool = False, demux: bool = False) -> Iterator[bytes]:
        assert stream and not demux, "exec output must be read as a stream"
        return self._output()

    def _output(self) -> Iterator[bytes]:
        yield self.text
        block = b"y\n" * 32768
        for _ in range(self.total // len(block)):
            yield block
        while self.hang and not self.killed.wait(0.01):
            pass

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return {"Running": self.hang and not self.killed.is_set(), "ExitCode": None if self.hang else self.code}


class FakeContainer:
    def __init__(self, api: FakeApi) -> None:
        self.id, self.name = "c" * 64, "fake"
        self.client = type("Client", (), {"api": api})()
        self.api = api

    def kill(self) -> None:
        self.api.killed.set()


def test_flood_is_read_as_a_stream_with_memory_near_the_cap():
    """Does a command printing 200 MB cost the grader about the cap in memory, keeping the tail and saying so?"""
    ctr = FakeContainer(FakeApi(total=200_000_000, code=3))
    tracemalloc.start()
    try:
        r = exec_capped(ctr, ["sh", "-c", "yes | head -c 200000000"], timeout=30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * OUTPUT_CAP  # O(cap): buffer, kept bytes, text (was ~2x the output: 400 MB here)
    assert (r.exit_code, r.cut, r.timed_out) == (3, True, False)
    assert r.output.startswith("[output cut: kept 1048576 of") and r.output.endswith("y\ny\n")
    assert len(r.output) < OUTPUT_CAP + 200


def test_small_output_is_whole_with_user_and_workdir():
    """Is a short output returned whole, and are user and workdir passed to the engine?"""
    api = FakeApi(text=b"10001\n")
    r = RunningContainer(FakeContainer(api), {8000: 1}).exec(["id", "-u"], user="web", workdir="/srv")
    assert (r.exit_code, r.output, r.cut, r.timed_out) == (0, "10001\n", False, False)
    assert api.created[0][1]["user"] == "web" and api.created[0][1]["workdir"] == "/srv"


def test_hanging_command_is_killed_at_the_time_limit():
    """Does a command that never ends come back at the time limit, timed out, with its container killed?"""
    api = FakeApi(text=b"started\n", hang=True)
    start = time.monotonic()
    r = exec_capped(FakeContainer(api), ["sleep", "1000"], timeout=0.5)
    assert time.monotonic() - start < 3
    assert api.killed.is_set() and r.timed_out and r.exit_code == -1
    assert "ran past" in r.output and r.output.endswith("started\n")


class LogContainer:
    """A container whose logs are one endless line (``tail=`` cannot bound it)."""

    def __init__(self) -> None:
        self.closed = False
        self.kwargs: dict[str, Any] = {}

    def logs(self, **kwargs: Any) -> Any:
        self.kwargs = kwargs
        outer = self

        class Stream:
            def __iter__(self) -> Iterator[bytes]:
                while True:
                    yield b"z" * 4096

            def close(self) -> None:
                outer.closed = True

        return Stream()


def test_log_tail_of_an_endless_line_stops_at_the_byte_cap():
    """Does log_tail ask the engine for a tail, read at most LOG_CAP bytes of it, and close the stream?"""
    ctr = LogContainer()
    text = log_tail(ctr, 5)
    assert ctr.kwargs == {"stream": True, "follow": False, "tail": 5} and ctr.closed
    assert text.startswith("[output cut") and text.count("z") == LOG_CAP
    assert RunningContainer(ctr, {8000: 1}).logs(3).endswith("z")


def _serve(handler_body):
    """A local HTTP server on a free port whose GET runs ``handler_body(wfile)``; returns (server, url)."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # the name is http.server's
            self.send_response(200)
            self.end_headers()
            try:
                handler_body(self.wfile)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def test_http_get_caps_a_body_without_end():
    """Does http_get stop at its cap when a server streams without end?"""
    from helpers.images.running import http_get

    def flood(w):
        for _ in range(100_000):
            w.write(b"x" * 4096)

    server, url = _serve(flood)
    try:
        answer = http_get(url, timeout=5, cap=10_000)
    finally:
        server.shutdown()
    assert answer.status == 200 and len(answer.body) == 10_000


def test_http_get_stops_at_its_deadline_when_a_server_trickles():
    """Does a server sending a byte every 0.2 s hold http_get no longer than its timeout (not per read)?"""
    import time

    from helpers.images.running import http_get

    def trickle(w):
        for _ in range(200):
            w.write(b"y")
            w.flush()
            time.sleep(0.2)

    server, url = _serve(trickle)
    try:
        start = time.monotonic()
        answer = http_get(url, timeout=1.5, cap=10_000)
        took = time.monotonic() - start
    finally:
        server.shutdown()
    assert answer.status == 200 and 0 < len(answer.body) < 20 and took < 3
