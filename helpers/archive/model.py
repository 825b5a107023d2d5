"""What an image archive holds: the image config, its tags and its layers, and how to read their bytes.

:mod:`helpers.archive.reader` builds these objects from a ``docker save`` archive or an OCI
layout, :mod:`helpers.archive.overlay` from the engine's overlay2 directories; the layer
analysis, the bill of materials, the secret search, the digests and the image facts all read
images through them, so the archive format is parsed in one place only.

Listing a layer's entries needs only the tar headers (read once, when the archive is read).
File contents are read again from the archive on disk when asked for
(:meth:`ImageArchive.iter_files`, :meth:`ImageArchive.open_blob`); an archive streamed from the
engine has no file to go back to.
"""

from __future__ import annotations

import hashlib
import posixpath
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from helpers.archive.tarstream import Bounded, Entry, FileSource, Gunzip, iter_members
from helpers.errors import NotAnImageArchive

__all__ = ["ArchiveLayer", "ImageArchive", "clean_name"]


def clean_name(name: str) -> str:
    """A member name cleaned the way dive cleans it (``path.Clean``): "." for the root."""
    return posixpath.normpath(name) if name else "."


@dataclass
class ArchiveLayer:
    """One layer as stored in the archive.

    Attributes:
        name: The layer's member in the archive (or its overlay2 directory).
        entries: Its tar headers as :data:`Entry` tuples, names cleaned, in archive order.
        diff_id: The digest of the uncompressed layer tar the image config records ("" if none).
        size: Bytes stored in the archive (compressed size for gzip layers).
        compressed: True when the stored blob is gzip-compressed.
        offset: Where the blob starts in the (uncompressed) archive stream; -1 when unknown.
    """

    name: str
    entries: list[Entry]
    diff_id: str = ""
    size: int = 0
    compressed: bool = False
    offset: int = -1


@dataclass
class ImageArchive:
    """What an image archive holds, in the order of the image's layers (bottom first).

    Attributes:
        layers: The layers in manifest order.
        config: The image config (``history``, ``rootfs``, ``config`` ...).
        tags: The repo tags recorded in the archive.
        source: Where it came from (path or ``docker://ref``).
        config_bytes: The config JSON as stored (its sha256 is the image ID).
        path: The archive file the layers' bytes can be read again from ("" for a stream).
        gzipped: True when the whole archive is gzip-compressed (``docker save | gzip``).
    """

    layers: list[ArchiveLayer]
    config: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    source: str = ""
    config_bytes: bytes = b""
    path: str = ""
    gzipped: bool = False

    @property
    def image_id(self) -> str:
        """The config digest (``sha256:...``), Docker's image ID ("" when the config bytes are unknown)."""
        return "sha256:" + hashlib.sha256(self.config_bytes).hexdigest() if self.config_bytes else ""

    @property
    def diff_ids(self) -> list[str]:
        """The layer digests the config records (``rootfs.diff_ids``), bottom first."""
        return list((self.config.get("rootfs") or {}).get("diff_ids") or [])

    @property
    def history(self) -> list[dict[str, Any]]:
        """The config's history entries that made a layer (``empty_layer`` ones left out), bottom first."""
        return [h for h in self.config.get("history") or [] if not h.get("empty_layer")]

    @contextmanager
    def open_blob(self, layer: ArchiveLayer) -> Iterator[Any]:
        """A reader (``read(n)``, ``skip(n)``) over the layer's bytes as stored in the archive.

        Raises:
            NotAnImageArchive: The archive was streamed (no file to read again) or the file changed.
        """
        if not self.path or layer.offset < 0:
            raise NotAnImageArchive(self.source, "its files can only be read from an archive on disk")
        try:
            with open(self.path, "rb") as f:
                src: Any = FileSource(f)
                if self.gzipped:
                    src = Gunzip(src)
                    src.skip(layer.offset)
                else:
                    f.seek(layer.offset)
                yield Bounded(src, layer.size)
        except OSError as e:
            raise NotAnImageArchive(self.source, str(e)) from e

    def iter_files(self, layer: ArchiveLayer) -> Iterator[tuple[Entry, Any]]:
        """Each entry of a layer (names cleaned, "." left out) with a reader over its data.

        The reader (None for entries without data) is valid until the next entry is asked for.

        Raises:
            NotAnImageArchive: The layer is not a readable tar, or the archive was streamed.
        """
        with self.open_blob(layer) as blob:
            try:
                for entry, body, _pos in iter_members(Gunzip(blob) if layer.compressed else blob):
                    name = clean_name(entry[0])
                    if name != ".":
                        yield (name, entry[1], entry[2], entry[3]), body
            except (ValueError, zlib.error, EOFError) as e:
                raise NotAnImageArchive(self.source, f"layer {layer.name}: {e}") from e

    def read_file(self, layer: ArchiveLayer, path: str) -> bytes | None:
        """The bytes of the regular file ``path`` in one layer (None when the layer does not hold it)."""
        want = clean_name(path.lstrip("/"))
        for (name, size, typ, _link), body in self.iter_files(layer):
            if typ == "0" and name.lstrip("/") == want:
                return body.read(size) if body is not None else b""
        return None
