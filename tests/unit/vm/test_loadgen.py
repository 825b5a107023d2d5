"""Unit tests for helpers.vm.loadgen (and measurement rows): HTTP polling and the bounded load."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from helpers.errors import HealthTimeout
from helpers.vm.loadgen import free_port, loopback_load, wait_for_http
from helpers.vm.results import COLUMNS, measurement_row


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status = 200 if self.path == "/ok" else 404
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_wait_for_http_returns_quickly_when_up(server):
    """Does the wait end at the first 200?"""
    assert wait_for_http(server, "/ok", timeout=5) < 2


def test_wait_for_http_times_out_and_stops_when_dead(server):
    """Does a path that never answers 200 time out, and does a dead process stop the wait early?"""
    start = time.monotonic()
    with pytest.raises(HealthTimeout):
        wait_for_http(server, "/missing", timeout=0.5)
    assert time.monotonic() - start < 3
    start = time.monotonic()
    with pytest.raises(HealthTimeout, match="stopped"):
        wait_for_http(free_port(), "/", timeout=30, alive=lambda: False)
    assert time.monotonic() - start < 3


def test_loopback_load_is_bounded(server):
    """Does the load stop at max_requests, count errors, and call on_tick while it runs?"""
    ticks = []
    r = loopback_load(server, "/ok", seconds=10, concurrency=2, max_requests=50, on_tick=lambda: ticks.append(1))
    assert 50 <= r.requests <= 52 and r.errors == 0
    assert r.seconds < 10 and r.per_second > 0
    r = loopback_load(server, "/missing", seconds=0.3, concurrency=1)
    assert r.requests == 0 and r.errors > 0


def test_measurement_row_has_the_columns():
    """Does every row carry exactly the documented columns?"""
    assert list(measurement_row("container", "start-up", 1, "s")) == COLUMNS
