"""Fast path: read an image's layers straight from the engine's overlay2 directories.

``docker save`` makes the engine tar every layer and send it through the API, which is most
of the time dive spends. When the engine is local, uses overlay2 and its directories are
readable (root on the engine's host: CI, a lab VM), the layer entries can be listed from
the ``diff`` directories instead, reproducing what the engine's tar would hold: overlay
whiteouts (0/0 character devices) become ``.wh.NAME``, opaque directories get a
``.wh..wh..opq`` entry, a second path to an inode becomes a hard link of size 0, in the
engine's walk order. :func:`read_overlay_image` returns None whenever that is not possible,
and the caller falls back to the stream.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

from helpers.archive.model import ArchiveLayer, ImageArchive
from helpers.archive.tarstream import Entry

__all__ = ["read_overlay_image", "overlay_entries"]


def overlay_entries(diff: str) -> list[Entry]:
    """The entries the engine's tar of one overlay2 ``diff`` directory holds (names relative)."""
    out: list[Entry] = []
    seen: dict[tuple[int, int], str] = {}

    def walk(path: str, rel: str) -> None:
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return
        for name in names:
            full = os.path.join(path, name)
            r = f"{rel}/{name}" if rel else name
            st = os.lstat(full)
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                out.append((r, 0, "5", ""))
                try:
                    opaque = os.getxattr(full, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
                except OSError:
                    opaque = False
                if opaque:
                    out.append((f"{r}/.wh..wh..opq", 0, "0", ""))
                walk(full, r)
            elif stat.S_ISREG(mode):
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in seen:
                    out.append((r, 0, "1", seen[key]))
                else:
                    if st.st_nlink > 1:
                        seen[key] = r
                    out.append((r, st.st_size, "0", ""))
            elif stat.S_ISLNK(mode):
                out.append((r, 0, "2", os.readlink(full)))
            elif stat.S_ISCHR(mode) and st.st_rdev == 0:
                wh = f"{rel}/.wh.{name}" if rel else f".wh.{name}"
                out.append((wh, 0, "0", ""))
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                out.append((r, 0, "3" if stat.S_ISCHR(mode) else "4", ""))
            elif stat.S_ISFIFO(mode):
                out.append((r, 0, "6", ""))
            # sockets are not archived by the engine

    walk(diff, "")
    return out


def read_overlay_image(image: str, client: Any) -> ImageArchive | None:
    """Read an image from overlay2 directories, or None when that is not possible here."""
    if os.environ.get("COURSE_LAYERS_NO_OVERLAY"):
        return None
    try:
        info = client.api.inspect_image(image)
    except Exception:  # noqa: BLE001 - the caller's stream path reports errors properly
        return None
    driver = info.get("GraphDriver") or {}
    data = driver.get("Data") or {}
    if driver.get("Name") != "overlay2" or not data.get("UpperDir"):
        return None
    dirs = list(reversed([d for d in (data.get("LowerDir") or "").split(":") if d])) + [data["UpperDir"]]
    diff_ids = (info.get("RootFS") or {}).get("Layers") or []
    if len(dirs) != len(diff_ids) or not all(os.access(d, os.R_OK | os.X_OK) for d in dirs):
        return None
    root = (client.info() or {}).get("DockerRootDir", "/var/lib/docker")
    config_path = os.path.join(root, "image", "overlay2", "imagedb", "content", *info["Id"].split(":", 1))
    try:
        with open(config_path, "rb") as f:
            raw_config = f.read()
        config = json.loads(raw_config)
        if (config.get("rootfs") or {}).get("diff_ids") != diff_ids:
            return None
        layers = [ArchiveLayer(d, overlay_entries(d), diff_id) for d, diff_id in zip(dirs, diff_ids)]
    except (OSError, ValueError):
        return None
    return ImageArchive(layers, config, list(info.get("RepoTags") or []), f"docker://{image}", raw_config)
