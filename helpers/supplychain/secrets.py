"""Build secrets: a private package index that wants a token, and a check that no layer kept it.

``RUN --mount=type=secret`` hands a file to one build step without writing it into any
layer. ``ARG``/``ENV`` do the opposite: the value lands in the image config and history.
:func:`find_secret_in_image` reads every layer of the built image (and its config) and
reports each place where the secret appears; it reads a ``docker save`` archive the same way
(no engine). :func:`build_secret_demo` builds notebook 21's two images, the ones ``make prebuilt``
exports (``secrets-mount``, ``secrets-arg-env``) with the public :data:`DEMO_TOKEN`.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import os
import tarfile
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client
from helpers.errors import CourseError, ImageNotFound, NotAnImageArchive
from helpers.images.build import build

__all__ = [
    "make_private_wheel",
    "TokenIndex",
    "Leak",
    "SecretCheck",
    "find_secret_in_image",
    "bridge_gateway",
    "SECRET_DOCKERFILES",
    "DEMO_TOKEN",
    "build_secret_demo",
]

#: Notebook 21's two ways to hand pip the index token: a secret mount (no layer keeps it), ARG/ENV (it leaks).
SECRET_DOCKERFILES: dict[str, str] = {
    "secret-mount": """ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
ARG INDEX_HOST
RUN --mount=type=secret,id=index_token \\
    pip install --no-cache-dir --trusted-host "${INDEX_HOST%:*}" \\
      --index-url "http://__token__:$(cat /run/secrets/index_token)@${INDEX_HOST}/simple/" course-private-lib \\
 && python3 -c "import course_private_lib; print(course_private_lib.hello())"
""",
    "arg-env": """ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
ARG INDEX_HOST
ARG INDEX_TOKEN
ENV INDEX_TOKEN=${INDEX_TOKEN}
RUN pip install --no-cache-dir --trusted-host "${INDEX_HOST%:*}" \\
      --index-url "http://__token__:${INDEX_TOKEN}@${INDEX_HOST}/simple/" course-private-lib \\
 && python3 -c "import course_private_lib; print(course_private_lib.hello())"
""",
}

#: The token the prebuilt demo images were built with. Public on purpose: it only ever opened a
#: throwaway index during the instructor's build, so students can search the archives for it.
DEMO_TOKEN = "course-demo-token-0f3c9a5e7b2d4c61"


def make_private_wheel(
    directory: str | os.PathLike[str], name: str = "course-private-lib", version: str = "1.0.0"
) -> Path:
    """Write a tiny pure-Python wheel (the "private dependency") and return its path."""
    mod = name.replace("-", "_")
    files = {
        f"{mod}/__init__.py": f'"""A private package served by the course\'s token-protected index."""\n'
        f'__version__ = "{version}"\n\n\ndef hello() -> str:\n    return "hello from {name}"\n',
        f"{mod}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{mod}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: course-kit\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
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

            def do_GET(self) -> None:  # noqa: N802
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


@dataclass
class Leak:
    """One place where the secret was found: ``where`` is "layer N", "config" or "history"."""

    where: str
    layer: int
    path: str
    created_by: str


@dataclass
class SecretCheck:
    """The result of checking every layer of an image for a secret."""

    image: str
    layers_checked: int
    files_checked: int
    leaks: list[Leak]

    @property
    def clean(self) -> bool:
        return not self.leaks

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([l.__dict__ for l in self.leaks], columns=["where", "layer", "path", "created_by"])


def find_secret_in_image(image: str | os.PathLike[str], secret: str, client: Any = None) -> SecretCheck:
    """Search every layer (every file's bytes), the image config and the history for ``secret``.

    Args:
        image: An image on the engine, or the path of a ``docker save`` archive (no engine needed).

    Raises:
        ImageNotFound: No such image.
        NotAnImageArchive: The archive cannot be read.
    """
    if len(secret) < 8:
        raise CourseError("The secret to look for is shorter than 8 characters.", "Use the real token.")
    if os.path.isfile(image):
        with open(image, "rb") as fh:
            try:
                return _check_archive(fh, os.fspath(image), secret.encode())
            except (tarfile.TarError, KeyError, ValueError) as e:
                raise NotAnImageArchive(os.fspath(image), str(e)) from e
    from docker.errors import ImageNotFound as _NF

    try:
        img = get_client(client).images.get(str(image))
    except _NF as e:
        raise ImageNotFound(str(image)) from e
    with tempfile.TemporaryFile() as tmp:
        for chunk in img.save(named=False):
            tmp.write(chunk)
        tmp.seek(0)
        return _check_archive(tmp, str(image), secret.encode())


def _check_archive(fh: Any, image: str, needle: bytes) -> SecretCheck:
    """Search one ``docker save`` archive (an open file) for ``needle``."""
    leaks: list[Leak] = []
    files = 0
    with tarfile.open(fileobj=fh) as outer:
        entry = json.load(outer.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
        raw_config = outer.extractfile(entry["Config"]).read()  # type: ignore[union-attr]
        config = json.loads(raw_config)
        history = [h for h in config.get("history", []) if not h.get("empty_layer")]
        for h in config.get("history", []):
            if needle in json.dumps(h).encode():
                leaks.append(Leak("history", -1, "", h.get("created_by", "")[:120]))
        if needle in json.dumps(config.get("config", {})).encode():
            leaks.append(Leak("config", -1, "Env/Cmd/Labels", ""))
        for i, lf in enumerate(entry["Layers"]):
            created = history[i].get("created_by", "")[:120] if i < len(history) else ""
            layer_fh = outer.extractfile(lf)
            assert layer_fh is not None
            with tarfile.open(fileobj=io.BufferedReader(layer_fh), mode="r|*") as layer:  # type: ignore[arg-type]
                for m in layer:
                    if needle in m.name.encode() or needle in (m.linkname or "").encode():
                        leaks.append(Leak(f"layer {i}", i, m.name, created))
                    if m.isfile():
                        files += 1
                        data = layer.extractfile(m)
                        if data is not None and _contains(data, needle):
                            leaks.append(Leak(f"layer {i}", i, m.name, created))
        layers = len(entry["Layers"])
    return SecretCheck(image, layers, files, leaks)


def _contains(fh: Any, needle: bytes, chunk: int = 1 << 20) -> bool:
    tail = b""
    while block := fh.read(chunk):
        if needle in tail + block:
            return True
        tail = block[-len(needle) :]
    return False


def build_secret_demo(kind: str, token: str = DEMO_TOKEN, tag: str = "", client: Any = None) -> str:
    """Build notebook 21's image the ``kind`` way against a throwaway private index; its tag.

    Args:
        kind: "secret-mount" or "arg-env" (a key of :data:`SECRET_DOCKERFILES`).
        token: The index token (default the public :data:`DEMO_TOKEN`: the image is for ``make prebuilt``).

    Raises:
        BuildError: The build failed.
    """

    tag = tag or f"course-secrets/private-dep:prebuilt-{kind}"
    with tempfile.TemporaryDirectory(prefix="course-secrets-") as tmp:
        work = Path(tmp)
        token_file = work / "index_token"
        token_file.write_text(token)
        os.chmod(token_file, 0o600)
        (work / "ctx").mkdir()
        with TokenIndex([make_private_wheel(work)], token, client=client) as index:
            args = {"INDEX_HOST": index.host, **({"INDEX_TOKEN": token} if kind == "arg-env" else {})}
            build(
                work / "ctx",
                dockerfile_text=SECRET_DOCKERFILES[kind],
                tags=[tag],
                build_args=args,
                secrets={"index_token": str(token_file)} if kind == "secret-mount" else None,
                client=client,
            )
    return tag


def _prebuilt_secret_mount(client: Any = None) -> str:
    return build_secret_demo("secret-mount", client=client)


def _prebuilt_arg_env(client: Any = None) -> str:
    return build_secret_demo("arg-env", client=client)
