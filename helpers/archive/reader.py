"""Read image archives (``docker save``, legacy or OCI layout) without an engine.

The archive is read in one pass, as a stream: the engine's ``docker save`` output can be
analysed while it arrives, and a file on disk is read with seeks past the file contents
(only tar headers are read). Layers may be plain or gzip-compressed tars.

The reading rules follow dive's (``dive/image/docker/image_archive.go``) so that the figures
computed from the entries equal ``dive --json``: every tar header of a layer is one entry,
sizes are the header sizes, names are cleaned (``path.Clean``), ``.`` is skipped.
"""

from __future__ import annotations

import json
import mmap
import os
import posixpath
import zlib
from dataclasses import dataclass, field
from typing import Any

from helpers.archive.tarstream import (
    BLOCK,
    ZERO,
    Bounded,
    ChunkSource,
    Entry,
    FileSource,
    Gunzip,
    MemorySource,
    iter_tar,
    valid_header,
)
from helpers.engine.client import get_client
from helpers.errors import ImageNotFound, NotAnImageArchive

__all__ = [
    "Entry",
    "ArchiveLayer",
    "ImageArchive",
    "read_archive",
    "read_engine_image",
    "read_engine_image_fast",
    "save_image",
    "iter_tar",
]

_MAX_JSON = 8 * 1024 * 1024


@dataclass
class ArchiveLayer:
    """One layer as stored in the archive."""

    name: str
    entries: list[Entry]


@dataclass
class ImageArchive:
    """What an image archive holds, in the order of the image's layers (bottom first).

    Attributes:
        layers: The layers in manifest order.
        config: The image config (``history``, ``rootfs``, ``config`` ...).
        tags: The repo tags recorded in the archive.
        source: Where it came from (path or ``docker://ref``).
    """

    layers: list[ArchiveLayer]
    config: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    source: str = ""


def _layer_entries(reader: Any) -> list[Entry]:
    """Entries of one layer tar, names cleaned the way dive cleans them."""
    out: list[Entry] = []
    norm = posixpath.normpath
    for name, size, typ, link in iter_tar(reader):
        clean = norm(name) if name else "."
        if clean == ".":
            continue
        out.append((clean, size, typ, link))
    return out


# --------------------------------------------------------------------------- archives
def _read(src: Any, source: str) -> ImageArchive:
    layers: dict[str, list[Entry]] = {}
    jsons: dict[str, bytes] = {}
    links: dict[str, str] = {}

    def member(entry: Entry, data: Any) -> None:
        name, size = entry[0], entry[1]
        if isinstance(data, MemorySource):  # peek without consuming
            head, body = bytes(data.buf[:BLOCK]), data
        else:
            head = data.read(BLOCK)
            body = Bounded(data, size, head)
        if name.endswith(".json") or (head[:1] == b"{" and size <= _MAX_JSON):
            jsons[name] = body.read(size)
        elif head[:2] == b"\x1f\x8b":
            layers[name] = _layer_entries(Gunzip(body))
        elif valid_header(head) or (head == ZERO and size <= 2 * BLOCK):
            layers[name] = _layer_entries(body)

    try:
        for name, _size, typ, link in iter_tar(src, member):
            if typ == "2":
                links[posixpath.normpath(name)] = posixpath.normpath(posixpath.join(posixpath.dirname(name), link))
    except (ValueError, zlib.error, EOFError) as e:
        raise NotAnImageArchive(source, str(e)) from e
    manifest = _manifest(jsons, source)
    layer_names = [links.get(posixpath.normpath(n), posixpath.normpath(n)) for n in manifest.get("Layers", [])]
    missing = [n for n in layer_names if n not in layers]
    if missing:
        raise NotAnImageArchive(source, f"layer {missing[0]} is missing")
    config = _json(jsons, manifest.get("Config", ""), source)
    return ImageArchive(
        [ArchiveLayer(n, layers[n]) for n in layer_names], config, list(manifest.get("RepoTags") or []), source
    )


def _json(jsons: dict[str, bytes], name: str, source: str) -> dict[str, Any]:
    raw = jsons.get(name) or jsons.get(posixpath.normpath(name))
    if raw is None:
        raise NotAnImageArchive(source, f"{name or 'the image config'} is missing")
    try:
        return json.loads(raw)
    except ValueError as e:
        raise NotAnImageArchive(source, f"{name} is not valid JSON") from e


def _manifest(jsons: dict[str, bytes], source: str) -> dict[str, Any]:
    """The first image of ``manifest.json``, or of the OCI ``index.json`` when there is none."""
    if "manifest.json" in jsons:
        data = json.loads(jsons["manifest.json"])
        if isinstance(data, list) and data:
            return data[0]
        raise NotAnImageArchive(source, "manifest.json lists no image")
    if "index.json" in jsons:  # OCI image layout
        index = json.loads(jsons["index.json"])
        desc = (index.get("manifests") or [{}])[0]
        man = _json(jsons, _blob(desc.get("digest", "")), source)
        if "manifests" in man:  # a nested index (multi-platform): take the first image
            man = _json(jsons, _blob(man["manifests"][0]["digest"]), source)
        tag = (desc.get("annotations") or {}).get("io.containerd.image.name", "")
        return {
            "Config": _blob(man["config"]["digest"]),
            "Layers": [_blob(x["digest"]) for x in man["layers"]],
            "RepoTags": [tag] if tag else [],
        }
    raise NotAnImageArchive(source, "no manifest.json or index.json inside")


def _blob(digest: str) -> str:
    algo, _, hexd = digest.partition(":")
    return f"blobs/{algo}/{hexd}"


def read_archive(path: str | os.PathLike[str]) -> ImageArchive:
    """Read a ``docker save`` archive (legacy or OCI layout) from disk.

    Raises:
        NotAnImageArchive: The file is missing, not a tar, or holds no image.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise NotAnImageArchive(path, "no such file")
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head == b"\x1f\x8b":  # docker save | gzip
            return _read(Gunzip(FileSource(f)), path)
        try:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # empty file, or a file system without mmap
            return _read(FileSource(f), path)
        try:
            return _read(MemorySource(mapped), path)
        finally:
            try:
                mapped.close()
            except BufferError:  # a window is still referenced (e.g. by a traceback): the GC closes it
                pass


def read_engine_image(image: str, client: Any = None) -> ImageArchive:
    """Stream ``docker save IMAGE`` from the engine and read it (nothing is written to disk).

    Raises:
        ImageNotFound: The engine has no such image.
        EngineUnavailable: No engine answers.
    """

    c = get_client(client)
    import docker.errors

    try:
        c.api.inspect_image(image)
        stream = c.api.get_image(image, chunk_size=1 << 20)
    except docker.errors.ImageNotFound as e:
        raise ImageNotFound(image) from e
    except docker.errors.APIError as e:
        if getattr(e, "status_code", 0) == 404:
            raise ImageNotFound(image) from e
        raise NotAnImageArchive(f"docker://{image}", e.explanation or str(e)) from e
    return _read(ChunkSource(stream), f"docker://{image}")


def save_image(image: str, path: str | os.PathLike[str], client: Any = None) -> str:
    """Write ``docker save IMAGE`` to ``path`` (what ``docker save -o`` does) and return the path.

    Raises:
        ImageNotFound: The engine has no such image.
    """

    c = get_client(client)
    import docker.errors

    try:
        stream = c.api.get_image(image, chunk_size=1 << 20)
        with open(path, "wb") as f:
            for chunk in stream:
                f.write(chunk)
    except docker.errors.NotFound as e:
        raise ImageNotFound(image) from e
    return os.fspath(path)


def read_engine_image_fast(image: str, client: Any = None) -> ImageArchive:
    """Like :func:`read_engine_image`, but from the engine's overlay2 directories when they are readable."""
    from helpers.archive.overlay import read_overlay_image

    c = get_client(client)
    return read_overlay_image(image, c) or read_engine_image(image, c)
