"""An engine that dies mid-run gives the kit's message, not a urllib3 traceback."""

from __future__ import annotations

import os
import socketserver
import threading

import pytest

from helpers.engine.client import get_client
from helpers.errors import EngineUnavailable


class _PingOnly(socketserver.StreamRequestHandler):
    """Answers the first two requests (docker-py's version probe and ping), then closes without a reply."""

    calls = 0

    def handle(self):
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if line in (b"\r\n", b"\n"):
                break
        type(self).calls += 1
        if type(self).calls <= 2:
            body = b'{"ApiVersion": "1.41", "Version": "20.10.24"}'
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            )


@pytest.fixture
def dying_engine(tmp_path, monkeypatch):
    path = str(tmp_path / "engine.sock")
    server = socketserver.UnixStreamServer(path, _PingOnly)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    yield
    server.shutdown()
    server.server_close()
    os.unlink(path)


def test_engine_lost_mid_run_is_a_course_error(dying_engine):
    """When the engine answers the ping and then dies, does the next call raise EngineUnavailable with a next step?"""
    client = get_client()
    with pytest.raises(EngineUnavailable) as e:
        client.containers.list()
    assert "stopped answering" in str(e.value) and "env up" in str(e.value)
