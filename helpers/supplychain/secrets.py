"""Build secrets: hand a token to one build step, and check that no layer kept it.

``RUN --mount=type=secret`` hands a file to one build step without writing it into any
layer. ``ARG``/``ENV`` do the opposite: the value lands in the image config and history.
:func:`find_secret_in_image` reads every layer of the built image (and its config) and
reports each place where the secret appears; it reads a ``docker save`` archive or OCI layout
the same way (no engine), through :mod:`helpers.archive.reader`. The token-protected index the
builds install from lives in :mod:`helpers.supplychain.privateindex`. :func:`build_secret_demo`
builds notebook 21's two images, the ones ``make prebuilt`` exports (``secrets-mount``,
``secrets-arg-env``) with the public :data:`DEMO_TOKEN`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.archive.model import ImageArchive
from helpers.archive.reader import read_archive, saved_archive
from helpers.errors import CourseError
from helpers.images.build import build
from helpers.supplychain.privateindex import TokenIndex, make_private_wheel

__all__ = ["Leak", "SecretCheck", "find_secret_in_image", "SECRET_DOCKERFILES", "DEMO_TOKEN", "build_secret_demo"]

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
        """True when the secret was found nowhere."""
        return not self.leaks

    def to_frame(self) -> Any:
        """The leaks as a DataFrame: where, layer, path, created_by."""
        import pandas as pd

        return pd.DataFrame([x.__dict__ for x in self.leaks], columns=["where", "layer", "path", "created_by"])


def find_secret_in_image(image: str | os.PathLike[str], secret: str, client: Any = None) -> SecretCheck:
    """Search every layer (every file's bytes), the image config and the history for ``secret``.

    Args:
        image: An image on the engine, or the path of an image archive (no engine needed).

    Raises:
        ImageNotFound: No such image.
        NotAnImageArchive: The archive cannot be read.
    """
    if len(secret) < 8:
        raise CourseError("The secret to look for is shorter than 8 characters.", "Use the real token.")
    if os.path.isfile(image):
        return _check_archive(read_archive(image), os.fspath(image), secret.encode())
    with saved_archive(str(image), client) as archive:
        return _check_archive(archive, str(image), secret.encode())


def _check_archive(archive: ImageArchive, image: str, needle: bytes) -> SecretCheck:
    """Search one image archive's history, config and layers for ``needle``."""
    leaks: list[Leak] = []
    for h in archive.config.get("history") or []:
        if needle in json.dumps(h).encode():
            leaks.append(Leak("history", -1, "", h.get("created_by", "")[:120]))
    if needle in json.dumps(archive.config.get("config") or {}).encode():
        leaks.append(Leak("config", -1, "Env/Cmd/Labels", ""))
    history, files = archive.history, 0
    for i, layer in enumerate(archive.layers):
        created = history[i].get("created_by", "")[:120] if i < len(history) else ""
        for (name, _size, typ, link), body in archive.iter_files(layer):
            if needle in name.encode() or needle in link.encode():
                leaks.append(Leak(f"layer {i}", i, name, created))
            if typ == "0":
                files += 1
                if body is not None and _contains(body, needle):
                    leaks.append(Leak(f"layer {i}", i, name, created))
    return SecretCheck(image, len(archive.layers), files, leaks)


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
