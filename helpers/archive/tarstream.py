"""Streaming tar reading: only headers are parsed, contents are skipped (seek on files).

Byte sources have ``read(n)`` and ``skip(n)``: a file, an iterator of chunks (the engine's
``docker save`` stream), a bounded window (one member of an outer tar), or a gzip stream.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = [
    "Entry",
    "iter_tar",
    "iter_members",
    "FileSource",
    "MemorySource",
    "ChunkSource",
    "Bounded",
    "Gunzip",
    "valid_header",
    "BLOCK",
    "ZERO",
]

#: One tar header of a layer: (path, size, typeflag, linkname). Tuples keep large images cheap.
Entry = tuple[str, int, str, str]

BLOCK = 512
ZERO = bytes(BLOCK)
_HEADER_ONLY = set("123456")  # link, symlink, char, block, dir, fifo: no data follows


# --------------------------------------------------------------------------- byte sources
class FileSource:
    def __init__(self, f: Any) -> None:
        self.f = f

    def read(self, n: int) -> bytes:
        return self.f.read(n)

    def skip(self, n: int) -> None:
        self.f.seek(n, os.SEEK_CUR)


class MemorySource:
    """Bytes of a memory-mapped file: reads are slices, skips are free."""

    def __init__(self, buf: Any) -> None:
        self.buf, self.pos, self.end = memoryview(buf), 0, len(buf)

    def read(self, n: int) -> bytes:
        start, self.pos = self.pos, min(self.pos + n, self.end)
        return bytes(self.buf[start : self.pos])

    def skip(self, n: int) -> None:
        self.pos = min(self.pos + n, self.end)


class ChunkSource:
    """Bytes from an iterator of chunks (the engine's ``docker save`` stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.it = iter(chunks)
        self.buf = b""
        self.pos = 0

    def read(self, n: int) -> bytes:
        if self.pos + n <= len(self.buf):
            self.pos += n
            return self.buf[self.pos - n : self.pos]
        parts = [self.buf[self.pos :]]
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


class Bounded:
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


class Gunzip:
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


def valid_header(hdr: bytes) -> bool:
    if len(hdr) < BLOCK or hdr == ZERO:
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
        record = data[len(length) + 1 : n]
        key, _, value = record.rstrip(b"\n").partition(b"=")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        data = data[n:]
    return out


def _long_value(data: bytes) -> str:
    return data.rstrip(b"\0").decode("utf-8", "surrogateescape")


def _padded(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK * BLOCK


def _entry(hdr: bytes, pax: dict[str, str], long_name: str | None, long_link: str | None) -> Entry:
    """The entry one ustar/GNU header describes, with PAX and GNU long names applied."""
    size = _num(hdr[124:136])
    typ = chr(hdr[156]) if hdr[156] else "0"
    name_b = hdr[0:100].split(b"\0", 1)[0]
    if hdr[257:263] == b"ustar\x00":
        prefix = hdr[345:500].split(b"\0", 1)[0]
        if prefix:
            name_b = prefix + b"/" + name_b
    name = long_name or pax.get("path") or name_b.decode("utf-8", "surrogateescape")
    link = long_link or pax.get("linkpath") or hdr[157:257].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    if "size" in pax:
        size = int(pax["size"])
    if typ == "7":
        typ = "0"
    if typ == "0" and name.endswith("/"):
        typ = "5"
    return (name, size, typ, link)


def iter_members(src: Any, bodies: bool = True) -> Iterator[tuple[Entry, Any, int]]:
    """Yield each entry of a tar stream with a reader over its data and the data's offset in the stream.

    The reader (None for members without data) is valid until the next entry is asked for; what
    is left of it is then skipped. Offsets count from where ``src`` stood when iteration began.

    Args:
        src: An object with ``read(n)`` and ``skip(n)``.
        bodies: False to skip every member's data unread (the reader is then always None).

    Raises:
        ValueError: The stream is not a tar archive.
    """
    pax: dict[str, str] = {}
    long_name = long_link = None
    pos = 0
    while True:
        hdr = src.read(BLOCK)
        pos += BLOCK
        if len(hdr) < BLOCK or hdr == ZERO:
            return
        if pos == BLOCK and not valid_header(hdr):  # later headers: a bad one shows up as a bad size or name
            raise ValueError("not a tar archive")
        typ = chr(hdr[156]) if hdr[156] else "0"
        if typ in ("x", "g", "L", "K"):
            size = _num(hdr[124:136])
            data = src.read(_padded(size))[:size]
            pos += _padded(size)
            if typ == "x":
                pax = _pax(data)
            elif typ == "L":
                long_name = _long_value(data)
            elif typ == "K":
                long_link = _long_value(data)
            continue
        entry = _entry(hdr, pax, long_name, long_link)
        pax, long_name, long_link = {}, None, None
        padded = 0 if entry[2] in _HEADER_ONLY else _padded(entry[1])
        if bodies:
            yield from _member(src, entry, pos, padded)
        else:
            yield entry, None, pos
            src.skip(padded)
        pos += padded


def _member(src: Any, entry: Entry, pos: int, padded: int) -> Iterator[tuple[Entry, Any, int]]:
    """Yield one entry with a reader over its data, then move ``src`` past the data."""
    size = entry[1]
    if padded == 0 or size == 0:
        yield entry, None, pos
        src.skip(padded)
    elif isinstance(src, MemorySource):
        yield entry, MemorySource(src.buf[src.pos : src.pos + size]), pos  # zero-copy window
        src.skip(padded)
    else:
        member = Bounded(src, size)
        yield entry, member, pos
        member.drain()
        src.skip(padded - size)


def iter_tar(src: Any, on_member: Callable[[Entry, Any], None] | None = None) -> Iterator[Entry]:
    """Yield the entries of a tar stream (PAX and GNU long names resolved).

    Args:
        src: An object with ``read(n)`` and ``skip(n)``.
        on_member: Called with each regular member and a reader over its data (for nested tars).

    Raises:
        ValueError: The stream is not a tar archive.
    """
    for entry, body, _pos in iter_members(src, bodies=on_member is not None):
        yield entry
        if on_member is not None and body is not None:
            on_member(entry, body)
