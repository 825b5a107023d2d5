"""Write small image archives from a description of their layers (no engine needed).

Used by the tests (archives with whiteouts, opaque directories, links, in the legacy
``docker save`` layout and in the OCI layout, plain or gzip) and by the notebooks when no
engine answers: :func:`write_demo_archive` writes a tiny "wasteful" image in which a pip
cache directory is written in one layer and deleted in the next, the case dive misses.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["FileSpec", "write_image_archive", "write_demo_archive", "DEMO_LAYERS"]

#: (path, kind, value): kind is "file" (value: size in bytes, or the content as str/bytes), "dir",
#: "symlink"/"hardlink" (value: target), "whiteout" (deletes path), "opaque" (path is the directory made opaque).
FileSpec = tuple[str, str, object]

_MTIME = 1_700_000_000


def _content(path: str, size: int) -> bytes:
    seed = hashlib.sha256(path.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def _tar_info(path: str, kind: str, value: object) -> tuple[tarfile.TarInfo, bytes | None]:
    """The tar header (and data) of one :data:`FileSpec`."""
    name = path.strip("/")
    if kind == "whiteout":
        head, _, base = name.rpartition("/")
        name, kind, value = (head + "/" if head else "") + ".wh." + base, "file", 0
    elif kind == "opaque":
        name, kind, value = name + "/.wh..wh..opq", "file", 0
    info = tarfile.TarInfo(name)
    info.mtime, info.mode = _MTIME, 0o644
    data = None
    if kind == "file":
        data = value.encode() if isinstance(value, str) else value if isinstance(value, bytes) else None
        data = _content(name, int(value)) if data is None else data  # type: ignore[call-overload]
        info.size = len(data)
    elif kind == "dir":
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, str(value)
    elif kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, str(value).strip("/")
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return info, data


def _layer_tar(specs: Sequence[FileSpec]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, kind, value in specs:
            info, data = _tar_info(path, kind, value)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), _MTIME, 0o644
    tar.addfile(info, io.BytesIO(data))


def _json_bytes(doc: object) -> bytes:
    return json.dumps(doc).encode()


def _config(diff_ids: list[str], commands: list[str]) -> bytes:
    """The image config JSON: a ``python`` command, the layers' digests and one history entry per layer."""
    return _json_bytes(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["python"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": c} for c in commands],
        }
    )


def _write_docker(tar: tarfile.TarFile, cfg: bytes, blobs: list[bytes], diff_ids: list[str], tag: str) -> None:
    """The legacy ``docker save`` layout: ``<id>/layer.tar``, ``<config digest>.json``, manifest.json."""
    names = []
    for digest, blob in zip(diff_ids, blobs):
        names.append(f"{digest.split(':')[1]}/layer.tar")
        _add(tar, names[-1], blob)
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    _add(tar, cfg_name, cfg)
    _add(tar, "manifest.json", _json_bytes([{"Config": cfg_name, "RepoTags": [tag], "Layers": names}]))


def _add_blob(tar: tarfile.TarFile, data: bytes, media: str) -> dict[str, object]:
    """Store ``data`` under ``blobs/sha256/`` and return its OCI descriptor."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _add(tar, "blobs/" + digest.replace(":", "/"), data)
    return {"mediaType": media, "digest": digest, "size": len(data)}


def _write_oci(tar: tarfile.TarFile, cfg: bytes, blobs: list[bytes], tag: str, gz: bool, with_manifest: bool) -> None:
    """An OCI image layout (blobs, oci-layout, index.json), plus manifest.json as ``docker save`` 25+ writes."""
    media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else "")
    descs = [_add_blob(tar, blob, media) for blob in blobs]
    config = _add_blob(tar, cfg, "application/vnd.oci.image.config.v1+json")
    manifest_type = "application/vnd.oci.image.manifest.v1+json"
    manifest = _json_bytes({"schemaVersion": 2, "mediaType": manifest_type, "config": config, "layers": descs})
    desc = _add_blob(tar, manifest, manifest_type)
    _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    if with_manifest:
        blob_names = ["blobs/" + str(d["digest"]).replace(":", "/") for d in [config, *descs]]
        _add(
            tar, "manifest.json", _json_bytes([{"Config": blob_names[0], "RepoTags": [tag], "Layers": blob_names[1:]}])
        )
    desc["annotations"] = {"io.containerd.image.name": tag}
    _add(tar, "index.json", _json_bytes({"schemaVersion": 2, "manifests": [desc]}))


def write_image_archive(
    path: str | os.PathLike[str],
    layers: Sequence[Sequence[FileSpec]],
    commands: Sequence[str] = (),
    tag: str = "course/demo:latest",
    layout: str = "docker",
    gzip_layers: bool = False,
) -> Path:
    """Write an image archive with the given layers (bottom first).

    Args:
        path: Where to write the tar.
        layers: Each layer's entries (see :data:`FileSpec`).
        commands: ``created_by`` for each layer's history entry.
        tag: The repo tag recorded.
        layout: "docker" (legacy ``docker save``: manifest.json + <id>/layer.tar), "oci"
            (index.json + blobs/sha256/... + manifest.json, as ``docker save`` writes since
            Docker 25) or "oci-only" (an OCI image layout without manifest.json).
        gzip_layers: Compress the layer blobs (OCI layouts only).

    Returns:
        The path written.

    Raises:
        ValueError: An unknown layout or file kind.
    """
    if layout not in ("docker", "oci", "oci-only"):
        raise ValueError("layout must be 'docker', 'oci' or 'oci-only'")
    blobs = [_layer_tar(specs) for specs in layers]
    diff_ids = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    gz = gzip_layers and layout != "docker"
    stored = [gzip.compress(b, mtime=0) for b in blobs] if gz else blobs
    cfg = _config(diff_ids, list(commands) + [f"RUN step {i}" for i in range(len(commands), len(layers))])
    out = Path(path)
    with tarfile.open(out, "w") as tar:
        if layout == "docker":
            _write_docker(tar, cfg, stored, diff_ids, tag)
        else:
            _write_oci(tar, cfg, stored, tag, gz, with_manifest=layout == "oci")
    return out


#: A tiny wasteful "Python service" image: 5 layers, about 1 MB.
DEMO_LAYERS: list[tuple[str, list[FileSpec]]] = [
    (
        "# base image (stand-in)",
        [
            ("usr", "dir", 0),
            ("usr/lib", "dir", 0),
            ("usr/lib/libpython.so", "file", 180_000),
            ("usr/bin", "dir", 0),
            ("usr/bin/python", "file", 40_000),
            ("usr/bin/python3", "symlink", "python"),
            ("etc", "dir", 0),
            ("etc/os-release", "file", 300),
            ("var/lib/apt/lists/pkgs", "file", 90_000),
        ],
    ),
    (
        "RUN pip install -r requirements.txt",
        [
            ("root/.cache/pip", "dir", 0),
            ("root/.cache/pip/wheels.bin", "file", 420_000),
            ("root/.cache/pip/http.bin", "file", 110_000),
            ("usr/lib/site-packages", "dir", 0),
            ("usr/lib/site-packages/fastapi.py", "file", 150_000),
            ("usr/lib/site-packages/uvicorn.py", "file", 60_000),
        ],
    ),
    (
        "RUN rm -rf /root/.cache /var/lib/apt/lists/pkgs",
        [("root", "dir", 0), ("root/.cache", "whiteout", 0), ("var/lib/apt/lists/pkgs", "whiteout", 0)],
    ),
    (
        "COPY . /app",
        [
            ("app", "dir", 0),
            ("app/main.py", "file", 4_000),
            ("app/data.json", "file", 60_000),
            ("app/.git", "dir", 0),
            ("app/.git/pack.bin", "file", 70_000),
        ],
    ),
    (
        "RUN python /app/build_index.py && ln /app/data.json /app/current.json",
        [
            ("app", "dir", 0),
            ("app/data.json", "file", 64_000),
            ("app/current.json", "hardlink", "app/data.json"),
            ("app/.git", "opaque", 0),
        ],
    ),
]


def write_demo_archive(path: str | os.PathLike[str], layout: str = "docker") -> Path:
    """Write the tiny wasteful demo image (about 1 MB) used when no engine answers."""
    return write_image_archive(
        path,
        [specs for _c, specs in DEMO_LAYERS],
        [c for c, _s in DEMO_LAYERS],
        tag="course/layers-demo:wasteful",
        layout=layout,
    )
