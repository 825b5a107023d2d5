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
import os
import posixpath
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .errors import ImageNotFound, NotAnImageArchive

__all__ = ["Entry", "ArchiveLayer", "ImageArchive", "read_archive", "read_engine_image", "read_engine_image_fast",
           "save_image", "iter_tar"]

#: One tar header of a layer: (path, size, typeflag, linkname). Tuples keep large images cheap.
Entry = tuple[str, int, str, str]

_BLOCK = 512
_ZERO = bytes(_BLOCK)
_HEADER_ONLY = set("123456")  # link, symlink, char, block, dir, fifo: no data follows
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


# --------------------------------------------------------------------------- byte sources
class _FileSource:
    def __init__(self, f: Any) -> None:
        self.f = f

    def read(self, n: int) -> bytes:
        return self.f.read(n)

    def skip(self, n: int) -> None:
        self.f.seek(n, os.SEEK_CUR)


class _ChunkSource:
    """Bytes from an iterator of chunks (the engine's ``docker save`` stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.it = iter(chunks)
        self.buf = b""
        self.pos = 0

    def read(self, n: int) -> bytes:
        if self.pos + n <= len(self.buf):
            self.pos += n
            return self.buf[self.pos - n:self.pos]
        parts = [self.buf[self.pos:]]
        have = len(parts[0])
        while have < n:
            chunk = next(self.it, b"")
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        self.buf, self.pos = data, min(n, len(data))
        return data[:n]

    def skip(self, n: int) -> None:
        left = len(self.buf) - self.pos
        if n <= left:
            self.pos += n
            return
        n -= left
        self.buf, self.pos = b"", 0
        while n > 0:
            chunk = next(self.it, b"")
            if not chunk:
                return
            if len(chunk) > n:
                self.buf, self.pos = chunk, n
                return
            n -= len(chunk)


class _Bounded:
    """At most ``size`` bytes of an underlying source (one tar member)."""

    def __init__(self, src: Any, size: int, head: bytes = b"") -> None:
        self.src, self.left, self.head = src, size - len(head), head

    def read(self, n: int) -> bytes:
        out = b""
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
            n -= len(out)
        if n > 0 and self.left > 0:
            take = min(n, self.left)
            data = self.src.read(take)
            self.left -= len(data)
            out += data
        return out

    def skip(self, n: int) -> None:
        if self.head:
            cut = min(n, len(self.head))
            self.head, n = self.head[cut:], n - cut
        take = min(n, self.left)
        if take > 0:
            self.src.skip(take)
            self.left -= take

    def drain(self) -> None:
        self.head = b""
        if self.left > 0:
            self.src.skip(self.left)
            self.left = 0


class _Gunzip:
    """A gzip-compressed member, decompressed as it is read."""

    def __init__(self, src: Any) -> None:
        self.src, self.z, self.buf = src, zlib.decompressobj(16 + zlib.MAX_WBITS), b""

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.src.read(1 << 20)
            if not chunk:
                self.buf += self.z.flush()
                break
            self.buf += self.z.decompress(chunk)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def skip(self, n: int) -> None:
        while n > 0:
            got = self.read(min(n, 1 << 20))
            if not got:
                return
            n -= len(got)


# --------------------------------------------------------------------------- tar headers
def _num(field_: bytes) -> int:
    if field_ and field_[0] & 0x80:  # base-256 (GNU) for big values
        return int.from_bytes(field_[1:], "big")
    s = field_.split(b"\0", 1)[0].strip()
    return int(s, 8) if s else 0


def _valid_header(hdr: bytes) -> bool:
    if len(hdr) < _BLOCK or hdr == _ZERO:
        return False
    try:
        stored = _num(hdr[148:156])
    except ValueError:
        return False
    return stored == sum(hdr[:148]) + 256 + sum(hdr[156:])


def _pax(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    while data:
        length, _, rest = data.partition(b" ")
        n = int(length)
        record = data[len(length) + 1:n]
        key, _, value = record.rstrip(b"\n").partition(b"=")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        data = data[n:]
    return out


def iter_tar(src: Any, on_member: Callable[[Entry, Any], None] | None = None) -> Iterator[Entry]:
    """Yield the entries of a tar stream (PAX and GNU long names resolved).

    Args:
        src: An object with ``read(n)`` and ``skip(n)``.
        on_member: Called with each regular member and a reader over its data (for nested tars).

    Raises:
        ValueError: The stream is not a tar archive.
    """
    pax: dict[str, str] = {}
    long_name = long_link = None
    first = True
    while True:
        hdr = src.read(_BLOCK)
        if len(hdr) < _BLOCK or hdr == _ZERO:
            return
        if not _valid_header(hdr):
            raise ValueError("bad tar header checksum" if not first else "not a tar archive")
        first = False
        size = _num(hdr[124:136])
        typ = chr(hdr[156]) if hdr[156] else "0"
        padded = (size + _BLOCK - 1) // _BLOCK * _BLOCK
        if typ in ("x", "g", "L", "K"):
            data = src.read(padded)[:size]
            if typ == "x":
                pax = _pax(data)
            elif typ == "L":
                long_name = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
            elif typ == "K":
                long_link = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
            continue
        name_b = hdr[0:100].split(b"\0", 1)[0]
        if hdr[257:263] == b"ustar\x00":
            prefix = hdr[345:500].split(b"\0", 1)[0]
            if prefix:
                name_b = prefix + b"/" + name_b
        name = long_name or pax.get("path") or name_b.decode("utf-8", "surrogateescape")
        link = long_link or pax.get("linkpath") or hdr[157:257].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        if "size" in pax:
            size = int(pax["size"])
            padded = (size + _BLOCK - 1) // _BLOCK * _BLOCK
        if typ == "7":
            typ = "0"
        if typ == "0" and name.endswith("/"):
            typ = "5"
        pax, long_name, long_link = {}, None, None
        entry = (name, size, typ, link)
        yield entry
        if typ in _HEADER_ONLY:
            continue
        if on_member is not None and size > 0:
            member = _Bounded(src, size)
            on_member(entry, member)
            member.drain()
            src.skip(padded - size)
        else:
            src.skip(padded)


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
        head = data.read(_BLOCK)
        if name.endswith(".json") or (head[:1] == b"{" and size <= _MAX_JSON):
            jsons[name] = head + data.read(size)
        elif head[:2] == b"\x1f\x8b":
            layers[name] = _layer_entries(_Gunzip(_Bounded(data, size, head)))
        elif _valid_header(head) or (head == _ZERO and size <= 2 * _BLOCK):
            layers[name] = _layer_entries(_Bounded(data, size, head))

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
    return ImageArchive([ArchiveLayer(n, layers[n]) for n in layer_names], config,
                        list(manifest.get("RepoTags") or []), source)


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
        return {"Config": _blob(man["config"]["digest"]), "Layers": [_blob(x["digest"]) for x in man["layers"]],
                "RepoTags": [tag] if tag else []}
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
            return _read(_Gunzip(_FileSource(f)), path)
        return _read(_FileSource(f), path)


def read_engine_image(image: str, client: Any = None) -> ImageArchive:
    """Stream ``docker save IMAGE`` from the engine and read it (nothing is written to disk).

    Raises:
        ImageNotFound: The engine has no such image.
        EngineUnavailable: No engine answers.
    """
    from .engine import get_client

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
    return _read(_ChunkSource(stream), f"docker://{image}")


def save_image(image: str, path: str | os.PathLike[str], client: Any = None) -> str:
    """Write ``docker save IMAGE`` to ``path`` (what ``docker save -o`` does) and return the path.

    Raises:
        ImageNotFound: The engine has no such image.
    """
    from .engine import get_client

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
    from .engine import get_client
    from .overlay import read_overlay_image

    c = get_client(client)
    return read_overlay_image(image, c) or read_engine_image(image, c)
