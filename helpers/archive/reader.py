"""Read image archives without an engine: the one parser of ``docker save`` archives and OCI layouts.

Accepted: ``docker save`` archives (``manifest.json``, legacy ``<id>/layer.tar`` or the OCI
blobs Docker 25+ writes), OCI image layouts with only ``index.json`` (skopeo, other engines),
plain or gzip-compressed layers, and a whole archive piped through gzip. The result is an
:class:`helpers.archive.model.ImageArchive` (config, tags, ordered layers with their diff ids);
the bill of materials, the secret search, the digests, the image facts and the layer analysis
all read images through it.

The archive is read in one pass, as a stream: the engine's ``docker save`` output can be
analysed while it arrives, and a file on disk is read with seeks past the file contents
(only tar headers are read; file contents are read again later, on demand).

The reading rules follow dive's (``dive/image/docker/image_archive.go``) so that the figures
computed from the entries equal ``dive --json``: every tar header of a layer is one entry,
sizes are the header sizes, names are cleaned (``path.Clean``), ``.`` is skipped.
"""

from __future__ import annotations

import json
import mmap
import os
import posixpath
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from helpers.archive.model import ArchiveLayer, ImageArchive, clean_name
from helpers.archive.overlay import read_overlay_image
from helpers.archive.tarstream import (
    BLOCK,
    ZERO,
    Bounded,
    ChunkSource,
    Entry,
    FileSource,
    Gunzip,
    MemorySource,
    iter_members,
    iter_tar,
    valid_header,
)
from helpers.engine.client import get_client
from helpers.errors import ImageNotFound, NotAnImageArchive

__all__ = ["read_archive", "read_engine_image", "read_engine_image_fast", "save_image", "saved_archive"]

_MAX_JSON = 8 * 1024 * 1024


def _layer_entries(reader: Any) -> list[Entry]:
    """Entries of one layer tar, names cleaned the way dive cleans them."""
    out: list[Entry] = []
    for name, size, typ, link in iter_tar(reader):
        clean = clean_name(name)
        if clean != ".":
            out.append((clean, size, typ, link))
    return out


# --------------------------------------------------------------------------- archives
@dataclass
class _Scan:
    """What one pass over the outer tar found: JSON documents, layer tars, links and member positions."""

    source: str
    jsons: dict[str, bytes] = field(default_factory=dict)
    layers: dict[str, tuple[list[Entry], bool]] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    where: dict[str, tuple[int, int]] = field(default_factory=dict)

    def member(self, entry: Entry, data: Any, offset: int) -> None:
        """Keep a JSON member's bytes, or list a layer tar's entries (plain or gzip)."""
        name, size = clean_name(entry[0]), entry[1]
        self.where[name] = (offset, size)
        if isinstance(data, MemorySource):  # peek without consuming
            head, body = bytes(data.buf[:BLOCK]), data
        else:
            head = data.read(BLOCK)
            body = Bounded(data, size, head)
        try:
            if name.endswith(".json") or (head[:1] == b"{" and size <= _MAX_JSON):
                self.jsons[name] = body.read(size)
            elif head[:2] == b"\x1f\x8b":
                self.layers[name] = (_layer_entries(Gunzip(body)), True)
            elif valid_header(head) or (head == ZERO and size <= 2 * BLOCK):
                self.layers[name] = (_layer_entries(body), False)
        except (ValueError, zlib.error, EOFError) as e:
            self.broken[name] = str(e)

    def link(self, name: str, target: str) -> None:
        """Remember a symlink between members (``docker save`` links a layer shared by two images)."""
        self.links[clean_name(name)] = clean_name(posixpath.join(posixpath.dirname(name), target))

    def resolve(self, name: str) -> str:
        return self.links.get(clean_name(name), clean_name(name))


def _scan(src: Any, source: str) -> _Scan:
    scan = _Scan(source)
    try:
        for entry, body, offset in iter_members(src):
            if entry[2] == "2":
                scan.link(entry[0], entry[3])
            elif body is not None:
                scan.member(entry, body, offset)
    except (ValueError, zlib.error, EOFError) as e:
        raise NotAnImageArchive(source, str(e)) from e
    return scan


def _layer(scan: _Scan, name: str, diff_id: str, strict: bool) -> ArchiveLayer:
    """The layer ``name`` of the manifest (NotAnImageArchive when missing, or unreadable and ``strict``)."""
    if name not in scan.where:
        raise NotAnImageArchive(scan.source, f"layer {name} is missing")
    if name not in scan.layers and strict:
        raise NotAnImageArchive(scan.source, f"layer {name} is not a tar archive {scan.broken.get(name, '')}".strip())
    entries, compressed = scan.layers.get(name, ([], False))
    offset, size = scan.where[name]
    return ArchiveLayer(name, entries, diff_id, size, compressed, offset)


def _read(src: Any, source: str, path: str = "", gzipped: bool = False, strict: bool = True) -> ImageArchive:
    scan = _scan(src, source)
    manifest = _manifest(scan.jsons, source)
    config_name = manifest.get("Config", "")
    raw = _raw(scan.jsons, config_name, source)
    config = _parse(raw, config_name, source)
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    names = [scan.resolve(n) for n in manifest.get("Layers", [])]
    layers = [_layer(scan, n, diff_ids[i] if i < len(diff_ids) else "", strict) for i, n in enumerate(names)]
    tags = list(manifest.get("RepoTags") or [])
    return ImageArchive(layers, config, tags, source, raw, path, gzipped)


def _raw(jsons: dict[str, bytes], name: str, source: str) -> bytes:
    raw = jsons.get(name) or jsons.get(clean_name(name))
    if raw is None:
        raise NotAnImageArchive(source, f"{name or 'the image config'} is missing")
    return raw


def _parse(raw: bytes, name: str, source: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as e:
        raise NotAnImageArchive(source, f"{name} is not valid JSON") from e


def _json(jsons: dict[str, bytes], name: str, source: str) -> Any:
    return _parse(_raw(jsons, name, source), name, source)


def _manifest(jsons: dict[str, bytes], source: str) -> dict[str, Any]:
    """The first image of ``manifest.json``, or of the OCI ``index.json`` when there is none."""
    if "manifest.json" in jsons:
        data = _json(jsons, "manifest.json", source)
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return data[0]
        raise NotAnImageArchive(source, "manifest.json lists no image")
    if "index.json" in jsons:  # OCI image layout
        try:
            return _oci_manifest(jsons, source)
        except (KeyError, IndexError, TypeError, AttributeError) as e:
            raise NotAnImageArchive(source, f"index.json names no image manifest ({e})") from e
    raise NotAnImageArchive(source, "no manifest.json or index.json inside")


def _oci_manifest(jsons: dict[str, bytes], source: str) -> dict[str, Any]:
    """An OCI layout's first image, in ``manifest.json``'s shape (Config, Layers, RepoTags)."""
    index = _json(jsons, "index.json", source)
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


def _blob(digest: str) -> str:
    algo, _, hexd = digest.partition(":")
    return f"blobs/{algo}/{hexd}"


def read_archive(path: str | os.PathLike[str], strict: bool = True) -> ImageArchive:
    """Read a ``docker save`` archive (legacy or OCI layout, or an OCI layout alone) from disk.

    Args:
        path: The archive (a tar, or a gzip-compressed tar).
        strict: Refuse a layer that is not a readable tar. False lists it with no entries, for
            callers that only hash its bytes (:func:`helpers.supplychain.digests.archive_digests`).

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
            return _read(Gunzip(FileSource(f)), path, path, gzipped=True, strict=strict)
        try:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # empty file, or a file system without mmap
            return _read(FileSource(f), path, path, strict=strict)
        try:
            return _read(MemorySource(mapped), path, path, strict=strict)
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
    c = get_client(client)
    return read_overlay_image(image, c) or read_engine_image(image, c)


@contextmanager
def saved_archive(image: str, client: Any = None) -> Iterator[ImageArchive]:
    """``docker save IMAGE`` into a temporary file, read: file contents can be read while inside the block.

    Raises:
        ImageNotFound: The engine has no such image.
        EngineUnavailable: No engine answers.
    """
    with tempfile.TemporaryDirectory(prefix="course-image-") as tmp:
        path = save_image(image, os.path.join(tmp, "image.tar"), client)
        archive = read_archive(path)
        archive.source = f"docker://{image}"
        yield archive
