"""An image's digests, computed from a ``docker save`` archive or OCI layout: no engine, no registry.

Three hashes name an image:

- the **config digest**, ``sha256`` of the image config JSON: Docker's image ID;
- the **layer digests** (``diff_ids``), ``sha256`` of each uncompressed layer tar, listed in the
  config's ``rootfs``: recomputing them proves the archive holds exactly those layers;
- the **manifest digest**, ``sha256`` of the manifest JSON that lists the config and the layer
  blobs: what a registry shows and what ``image@sha256:...`` pins. It depends on how the layers
  are stored: :func:`archive_digests` builds the OCI manifest of the layers *as they are in the
  archive* (uncompressed in ``docker save`` archives), which is the digest a registry shows when
  the archive is pushed as-is (:func:`push_archive`). ``docker push`` gzips the layers first, so
  its manifest digest differs, while the config digest (the image ID) stays the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from dataclasses import dataclass, field
from typing import Any

from helpers.archive.model import ArchiveLayer, ImageArchive
from helpers.archive.reader import read_archive
from helpers.archive.tarstream import Gunzip
from helpers.errors import NotAnImageArchive

__all__ = [
    "LayerDigest",
    "ImageDigests",
    "archive_digests",
    "oci_manifest",
    "push_archive",
    "OCI_MANIFEST",
    "OCI_CONFIG",
    "OCI_LAYER",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = OCI_LAYER + "+gzip"
_BLOCK = 1 << 20


@dataclass
class LayerDigest:
    """One layer: the digest of its uncompressed tar (computed), the one the config records, and its blob.

    ``blob_digest``/``size`` describe the layer as stored in the archive (gzip-compressed in some
    OCI layouts, then different from ``digest``); the manifest lists the blob.
    """

    index: int
    digest: str
    recorded: str
    size: int
    member: str
    blob_digest: str = ""
    compressed: bool = False

    @property
    def matches(self) -> bool:
        return self.digest == self.recorded


@dataclass
class ImageDigests:
    """The digests of one image archive (see the module docstring).

    Attributes:
        image_id: The config digest (``sha256:...``), equal to ``docker images --no-trunc`` IMAGE ID.
        config: The config JSON bytes, as stored.
        layers: One :class:`LayerDigest` per layer, bottom first.
        manifest: The OCI manifest JSON bytes of the layer blobs as stored.
        manifest_digest: ``sha256`` of ``manifest``.
        tags: Repository tags recorded in the archive.
    """

    source: str
    image_id: str
    config: bytes
    layers: list[LayerDigest] = field(default_factory=list)
    manifest: bytes = b""
    manifest_digest: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        """True when every layer's bytes hash to the digest the config records."""
        recorded = json.loads(self.config).get("rootfs", {}).get("diff_ids", [])
        return len(recorded) == len(self.layers) and all(layer.matches for layer in self.layers)

    def frame(self) -> Any:
        """The layers as a DataFrame: layer, digest (computed), matches config, size_mb (as stored)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "layer": x.index,
                    "digest (computed)": x.digest,
                    "matches config": x.matches,
                    "size_mb": round(x.size / 1e6, 2),
                }
                for x in self.layers
            ],
            columns=["layer", "digest (computed)", "matches config", "size_mb"],
        )


def oci_manifest(config: bytes, layers: list[tuple[str, int]], gzipped: list[bool] | None = None) -> bytes:
    """The OCI image manifest (JSON bytes) naming ``config`` and the layer blobs ``(digest, size)``.

    Args:
        gzipped: Per layer, whether the blob is gzip-compressed (default: none is).
    """
    flags = gzipped or [False] * len(layers)
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": _sha256(config), "size": len(config)},
        "layers": [
            {"mediaType": OCI_LAYER_GZIP if z else OCI_LAYER, "digest": d, "size": s}
            for (d, s), z in zip(layers, flags)
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _Hashing:
    """A byte source that hashes what is read through it (the stored blob, before gunzip)."""

    def __init__(self, src: Any) -> None:
        self.src, self.hash, self.size = src, hashlib.sha256(), 0

    def read(self, n: int) -> bytes:
        data = self.src.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data

    def rest(self) -> None:
        """Hash what the reader left (bytes after the end of the gzip stream)."""
        while self.read(_BLOCK):
            pass


def _layer_digest(archive: ImageArchive, i: int, layer: ArchiveLayer) -> LayerDigest:
    """Hash one layer: its blob as stored and its uncompressed tar."""
    plain = hashlib.sha256()
    with archive.open_blob(layer) as blob:
        stored = _Hashing(blob)
        src: Any = Gunzip(stored) if layer.compressed else stored
        while block := src.read(_BLOCK):
            plain.update(block)
        stored.rest()
    blob_digest = "sha256:" + stored.hash.hexdigest()
    return LayerDigest(
        i, "sha256:" + plain.hexdigest(), layer.diff_id, stored.size, layer.name, blob_digest, layer.compressed
    )


def archive_digests(path: str | os.PathLike[str]) -> ImageDigests:
    """Hash a ``docker save`` archive or OCI layout: config digest (image ID), layer digests, OCI manifest digest.

    Reads every layer once (about 1 s per 500 MB). The first image of the archive is used. A layer
    whose bytes no longer form a tar is still hashed (it then does not match its recorded digest).

    Raises:
        NotAnImageArchive: The file is missing, not a tar, or lacks its manifest, config or a layer.
    """
    source = os.fspath(path)
    archive = read_archive(source, strict=False)
    try:
        layers = [_layer_digest(archive, i, layer) for i, layer in enumerate(archive.layers)]
    except zlib.error as e:
        raise NotAnImageArchive(source, str(e)) from e
    config = archive.config_bytes
    manifest = oci_manifest(config, [(x.blob_digest, x.size) for x in layers], [x.compressed for x in layers])
    return ImageDigests(source, archive.image_id, config, layers, manifest, _sha256(manifest), archive.tags)


def push_archive(path: str | os.PathLike[str], api: Any, repository: str, tag: str) -> str:
    """Upload an archive's config and layers as they are (uncompressed) and its OCI manifest; the digest.

    Args:
        api: A :class:`helpers.supplychain.registryapi.RegistryClient` (logged in).

    Returns:
        The manifest digest the registry reports: equal to :attr:`ImageDigests.manifest_digest`.
    """
    digests = archive_digests(path)
    archive = read_archive(path, strict=False)
    api.upload_blob(repository, digests.config)
    for layer in archive.layers:
        with archive.open_blob(layer) as blob:
            api.upload_blob(repository, blob.read(layer.size))
    return api.put_manifest(repository, tag, digests.manifest, OCI_MANIFEST)
