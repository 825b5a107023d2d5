"""Software bill of materials: what is installed in an image, and which layer put it there.

Reads the image's layers (from the engine through ``docker save``, or from an archive on disk,
through :mod:`helpers.archive.reader`) and collects OS packages (dpkg ``status`` and
``status.d/``, apk ``installed``) and Python distributions (``*.dist-info/METADATA``,
``*.egg-info``) with :class:`helpers.supplychain.pkgdb.PackageDb`. Whiteouts are honoured, so a
package removed by a later layer is not reported. The result is a
:class:`helpers.supplychain.bom.Sbom` (CycloneDX JSON from cyclonedx-python-lib).
"""

from __future__ import annotations

import os
from pathlib import Path
from posixpath import basename
from typing import Any

from helpers.archive.model import ArchiveLayer, ImageArchive
from helpers.archive.reader import read_archive, saved_archive
from helpers.supplychain.bom import Layer, Sbom
from helpers.supplychain.pkgdb import PackageDb

__all__ = ["sbom", "image_sbom", "read_sbom_archive", "sbom_of_archive"]


def sbom(source: str | os.PathLike[str], client: Any = None) -> Sbom:
    """Bill of materials of an image on the engine or of an image archive on disk.

    Args:
        source: An image reference, or the path of a ``docker save`` archive or OCI layout.
        client: docker-py client (engine sources only).

    Raises:
        ImageNotFound: No such image on the engine.
        NotAnImageArchive: The file is not an image archive.
        EngineUnavailable: A reference was given and no engine answers.
    """
    if Path(source).is_file():
        return read_sbom_archive(source)
    with saved_archive(str(source), client) as archive:
        result = sbom_of_archive(archive)
    result.image = str(source)
    return result


#: The same function under a name that does not clash with the module (``from helpers import image_sbom``).
image_sbom = sbom


def read_sbom_archive(path: str | os.PathLike[str]) -> Sbom:
    """Bill of materials of an image archive: ``docker save`` (Docker or OCI layout) or an OCI layout alone.

    Raises:
        NotAnImageArchive: The file is missing, not a tar, or holds no image.
    """
    return sbom_of_archive(read_archive(path))


def sbom_of_archive(archive: ImageArchive) -> Sbom:
    """Bill of materials of an image archive already read (see :func:`helpers.archive.reader.read_archive`).

    Raises:
        NotAnImageArchive: A layer cannot be read.
    """
    history, diff_ids = archive.history, archive.diff_ids
    result = Sbom(image=archive.source)
    db = PackageDb()
    for i, layer in enumerate(archive.layers):
        created = history[i].get("created_by", "") if i < len(history) else ""
        digest = diff_ids[i] if i < len(diff_ids) else layer.name
        result.layers.append(Layer(i, digest, created, layer.size))
        _read_layer(archive, i, layer, db)
    result.os = db.os
    for pkg, layer_index in db.packages():
        pkg.layer = layer_index
        if 0 <= layer_index < len(result.layers):
            pkg.layer_digest = result.layers[layer_index].digest
            pkg.created_by = result.layers[layer_index].created_by
        result.packages.append(pkg)
    return result


def _read_layer(archive: ImageArchive, index: int, layer: ArchiveLayer, db: PackageDb) -> None:
    """Feed one layer's whiteouts and package-database files to ``db``."""
    if not any(PackageDb.wants(e[0].lstrip("/")) or basename(e[0]).startswith(".wh.") for e in layer.entries):
        return  # nothing to read: skip the second pass over this layer
    for (name, size, typ, _link), body in archive.iter_files(layer):
        name = name.lstrip("/")
        if basename(name).startswith(".wh."):
            db.whiteout(name)
        elif typ == "0" and PackageDb.wants(name):
            text = body.read(size).decode("utf-8", "replace") if body is not None else ""
            db.add(index, name, text)
