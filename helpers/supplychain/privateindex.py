"""A private package index that wants a token: notebook 21's stand-in for a company's index.

:func:`make_private_wheel` writes the "private dependency", :class:`TokenIndex` serves it (PEP
503) on the Docker bridge, answering only requests that carry the token, so a build step can
install it only when the token is handed to it (:mod:`helpers.supplychain.secrets` shows the
right and the wrong way).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import threading
import zipfile
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client
from helpers.errors import CourseError

__all__ = ["make_private_wheel", "bridge_gateway", "TokenIndex"]

_WHEEL = "Wheel-Version: 1.0\nGenerator: course-kit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def make_private_wheel(
    directory: str | os.PathLike[str], name: str = "course-private-lib", version: str = "1.0.0"
) -> Path:
    """Write a tiny pure-Python wheel (the "private dependency") and return its path."""
    mod = name.replace("-", "_")
    files = {
        f"{mod}/__init__.py": f'"""A private package served by the course\'s token-protected index."""\n'
        f'__version__ = "{version}"\n\n\ndef hello() -> str:\n    return "hello from {name}"\n',
        f"{mod}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{mod}-{version}.dist-info/WHEEL": _WHEEL,
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{mod}-{version}.dist-info/RECORD,,")
    files[f"{mod}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    out = Path(directory) / f"{mod}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return out


def bridge_gateway(client: Any = None) -> str:
    """The host's address on Docker's default bridge (what build steps can reach), e.g. 172.17.0.1."""
    net = get_client(client).networks.get("bridge")
    import ipaddress

    for cfg in net.attrs.get("IPAM", {}).get("Config") or []:
        if cfg.get("Gateway"):
            return str(cfg["Gateway"])
        if cfg.get("Subnet") and ":" not in cfg["Subnet"]:  # the default bridge: the engine takes the first address
            return str(ipaddress.ip_network(cfg["Subnet"]).network_address + 1)
    raise CourseError("Docker's bridge network has no gateway address.", "Restart the lab engine (`make lab`).")


class TokenIndex:
    """A PEP 503 package index on the Docker bridge that serves files only with the right token.

    Use as a context manager; ``host`` is ``IP:PORT`` for ``pip --index-url http://__token__:TOKEN@HOST/simple/``.

    Attributes:
        refused: How many requests came without a valid token.
        served: How many requests were answered.
    """

    def __init__(self, wheels: list[Path], token: str, bind: str | None = None, client: Any = None) -> None:
        self.wheels = {w.name: w for w in wheels}
        self.token = token
        self.bind = bind
        self._client = client
        self.refused = 0
        self.served = 0
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        assert self._server is not None, "start the index first (use `with TokenIndex(...) as idx:`)"
        return f"{self._server.server_address[0]}:{self._server.server_address[1]}"

    def __enter__(self) -> TokenIndex:
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep notebooks quiet; never log credentials
                pass

            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                ok = False
                if auth.startswith("Basic "):
                    try:
                        ok = base64.b64decode(auth[6:]).decode().split(":", 1)[1] == index.token
                    except (ValueError, IndexError):
                        ok = False
                elif auth.startswith("Bearer "):
                    ok = auth[7:] == index.token
                if not ok:
                    index.refused += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="course-private-index"')
                    self.end_headers()
                    return
                index.served += 1
                body, ctype = index._page(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", ctype)
                self.end_headers()
                if body is not None:
                    self.wfile.write(body)

        bind = self.bind or bridge_gateway(self._client)
        self._server = http.server.ThreadingHTTPServer((bind, 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _page(self, path: str) -> tuple[bytes | None, str]:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts == ["simple"]:
            names = sorted({w.split("-")[0].replace("_", "-") for w in self.wheels})
            return "".join(f'<a href="/simple/{n}/">{n}</a>\n' for n in names).encode(), "text/html"
        if len(parts) == 2 and parts[0] == "simple":
            links = [
                f'<a href="/files/{w}#sha256={hashlib.sha256(p.read_bytes()).hexdigest()}">{w}</a>'
                for w, p in self.wheels.items()
                if w.split("-")[0].replace("_", "-") == parts[1]
            ]
            return ("\n".join(links).encode(), "text/html") if links else (None, "text/plain")
        if len(parts) == 2 and parts[0] == "files" and parts[1] in self.wheels:
            return self.wheels[parts[1]].read_bytes(), "application/octet-stream"
        return None, "text/plain"
