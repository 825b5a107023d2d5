"""An image's digests, computed from a ``docker save`` archive: no engine, no registry.

Three hashes name an image:

- the **config digest**, ``sha256`` of the image config JSON: Docker's image ID;
- the **layer digests** (``diff_ids``), ``sha256`` of each uncompressed layer tar, listed in the
  config's ``rootfs``: recomputing them proves the archive holds exactly those layers;
- the **manifest digest**, ``sha256`` of the manifest JSON that lists the config and the layer
  blobs: what a registry shows and what ``image@sha256:...`` pins. It depends on how the layers
  are stored: :func:`archive_digests` builds the OCI manifest of the layers *as they are in the
  archive* (uncompressed in ``docker save`` archives), which is the digest a registry shows when the archive is pushed as-is
  (:func:`push_archive`). ``docker push`` gzips the layers first, so its manifest digest differs,
  while the config digest (the image ID) stays the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zlib
from dataclasses import dataclass, field
from typing import Any

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


def _member(tar: tarfile.TarFile, name: str, source: str, what: str = "") -> Any:
    """The archive member ``name`` opened for reading (NotAnImageArchive when it is missing)."""
    try:
        fh = tar.extractfile(name)
    except KeyError:
        fh = None
    if fh is None:
        raise NotAnImageArchive(source, f"{what or name} is missing")
    return fh


def _read_json_member(tar: tarfile.TarFile, name: str, source: str) -> bytes:
    return _member(tar, name, source).read()


def archive_digests(path: str | os.PathLike[str]) -> ImageDigests:
    """Hash a ``docker save`` archive: config digest (image ID), layer digests, OCI manifest digest.

    Reads every layer once (about 1 s per 500 MB). The first image of the archive is used.

    Raises:
        NotAnImageArchive: The file is missing, not a tar, or lacks its manifest, config or a layer.
    """
    source = os.fspath(path)
    if not os.path.isfile(source):
        raise NotAnImageArchive(source, "no such file")
    try:
        with tarfile.open(source, "r:") as tar:
            entries = json.loads(_read_json_member(tar, "manifest.json", source))
            if not isinstance(entries, list) or not entries:
                raise NotAnImageArchive(source, "manifest.json lists no image")
            entry = entries[0]
            config = _read_json_member(tar, entry["Config"], source)
            recorded = json.loads(config).get("rootfs", {}).get("diff_ids", [])
            layers = []
            for i, name in enumerate(entry.get("Layers") or []):
                fh = _member(tar, name, source, f"layer {name}")
                blob, plain, size = hashlib.sha256(), hashlib.sha256(), 0
                gunzip = None
                while block := fh.read(_BLOCK):
                    if size == 0 and block[:2] == b"\x1f\x8b":
                        gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    blob.update(block)
                    plain.update(gunzip.decompress(block) if gunzip else block)
                    size += len(block)
                layers.append(
                    LayerDigest(
                        i,
                        "sha256:" + plain.hexdigest(),
                        recorded[i] if i < len(recorded) else "",
                        size,
                        name,
                        "sha256:" + blob.hexdigest(),
                        gunzip is not None,
                    )
                )
    except (tarfile.TarError, ValueError, KeyError, TypeError, zlib.error) as e:
        raise NotAnImageArchive(source, str(e)) from e
    manifest = oci_manifest(config, [(x.blob_digest, x.size) for x in layers], [x.compressed for x in layers])
    return ImageDigests(
        source, _sha256(config), config, layers, manifest, _sha256(manifest), list(entry.get("RepoTags") or [])
    )


def push_archive(path: str | os.PathLike[str], api: Any, repository: str, tag: str) -> str:
    """Upload an archive's config and layers as they are (uncompressed) and its OCI manifest; the digest.

    Args:
        api: A :class:`helpers.supplychain.publish.RegistryClient` (logged in).

    Returns:
        The manifest digest the registry reports: equal to :attr:`ImageDigests.manifest_digest`.
    """
    digests = archive_digests(path)
    api.upload_blob(repository, digests.config)
    with tarfile.open(os.fspath(path), "r:") as tar:
        for layer in digests.layers:
            fh = tar.extractfile(layer.member)
            assert fh is not None  # checked by archive_digests
            api.upload_blob(repository, fh.read())
    return api.put_manifest(repository, tag, digests.manifest, OCI_MANIFEST)
