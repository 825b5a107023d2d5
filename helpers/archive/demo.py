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

#: (path, kind, value): kind is "file" (value: size in bytes), "dir", "symlink"/"hardlink"
#: (value: target), "whiteout" (deletes path), "opaque" (path is the directory made opaque).
FileSpec = tuple[str, str, object]

_MTIME = 1_700_000_000


def _content(path: str, size: int) -> bytes:
    seed = hashlib.sha256(path.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def _layer_tar(specs: Sequence[FileSpec]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, kind, value in specs:
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
                data = _content(name, int(value))  # type: ignore[arg-type]
                info.size = len(data)
            elif kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, str(value)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, str(value).strip("/")
            else:
                raise ValueError(f"unknown kind {kind!r}")
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), _MTIME, 0o644
    tar.addfile(info, io.BytesIO(data))


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
    """
    blobs = [_layer_tar(specs) for specs in layers]
    diff_ids = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    stored = [gzip.compress(b, mtime=0) if gzip_layers and layout != "docker" else b for b in blobs]
    cmds = list(commands) + [f"RUN step {i}" for i in range(len(commands), len(layers))]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["python"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": c} for c in cmds],
    }
    cfg = json.dumps(config).encode()
    cfg_hex = hashlib.sha256(cfg).hexdigest()
    out = Path(path)
    with tarfile.open(out, "w") as tar:
        if layout == "docker":
            names = []
            for digest, blob in zip(diff_ids, stored):
                d = digest.split(":")[1]
                _add(tar, f"{d}/layer.tar", blob)
                names.append(f"{d}/layer.tar")
            _add(tar, f"{cfg_hex}.json", cfg)
            _add(
                tar,
                "manifest.json",
                json.dumps([{"Config": f"{cfg_hex}.json", "RepoTags": [tag], "Layers": names}]).encode(),
            )
        elif layout in ("oci", "oci-only"):
            media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gzip_layers else "")
            descs = []
            for blob in stored:
                h = hashlib.sha256(blob).hexdigest()
                _add(tar, f"blobs/sha256/{h}", blob)
                descs.append({"mediaType": media, "digest": f"sha256:{h}", "size": len(blob)})
            _add(tar, f"blobs/sha256/{cfg_hex}", cfg)
            manifest = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {
                        "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": f"sha256:{cfg_hex}",
                        "size": len(cfg),
                    },
                    "layers": descs,
                }
            ).encode()
            m_hex = hashlib.sha256(manifest).hexdigest()
            _add(tar, f"blobs/sha256/{m_hex}", manifest)
            _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
            if layout == "oci":  # docker save (25+) writes both index.json and manifest.json
                _add(
                    tar,
                    "manifest.json",
                    json.dumps(
                        [
                            {
                                "Config": f"blobs/sha256/{cfg_hex}",
                                "RepoTags": [tag],
                                "Layers": [f"blobs/{d['digest'].replace(':', '/')}" for d in descs],
                            }
                        ]
                    ).encode(),
                )
            _add(
                tar,
                "index.json",
                json.dumps(
                    {
                        "schemaVersion": 2,
                        "manifests": [
                            {
                                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                "digest": f"sha256:{m_hex}",
                                "size": len(manifest),
                                "annotations": {"io.containerd.image.name": tag},
                            }
                        ],
                    }
                ).encode(),
            )
        else:
            raise ValueError("layout must be 'docker', 'oci' or 'oci-only'")
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
