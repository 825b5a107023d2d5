"""A registry port held by something else gives a clear message and touches nothing."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading


def test_registry_port_in_use_is_one_clear_message(tmp_path):
    """When a non-registry program holds the registry port, does ensure_registry say so and what to do?"""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        code = (
            "from helpers.engine.registry import ensure_registry\n"
            "from helpers.errors import PortInUse\n"
            "try:\n    ensure_registry(log=lambda m: None)\n"
            "except PortInUse as e:\n    print('PortInUse:', e)\n"
        )
        env = dict(os.environ, COURSE_REGISTRY_PORT=str(port), COURSE_STATE_DIR=str(tmp_path))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        assert out.stdout.startswith("PortInUse:"), out.stdout + out.stderr
        assert f"Port {port}" in out.stdout and "COURSE_REGISTRY_PORT" in out.stdout
        assert not (tmp_path / "registry" / "registry.pid").exists()
    finally:
        server.shutdown()
