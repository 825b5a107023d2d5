"""Images read from ``docker save`` archives (no engine needed), for lessons without an engine.

With the instructor's prebuilt archives (:mod:`helpers.kit.prebuilt`) the lessons show an image's
layer table (:func:`archive_layers`, the shape of ``docker history``), which files it ships
(:func:`files_present`, :func:`files_table`) and which layers several images share, i.e. what
they would occupy on disk once loaded (:func:`shared_layers`). Its metadata (user, health check,
size) comes from :func:`helpers.images.inspect.image_facts`. A ``source`` is an archive path or, with an
engine, an image reference.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from pathlib import Path
from typing import Any

from helpers.archive.model import ImageArchive
from helpers.archive.reader import read_archive, read_engine_image_fast
from helpers.lessons.caching import _instruction

__all__ = [
    "archive_layers",
    "visible_files",
    "files_present",
    "files_table",
    "TOOL_FILES",
    "shared_layers",
    "sharing_summary",
    "layer_sizes",
    "is_archive",
]

#: Files that tell whether an image has a tool: label -> glob of its path (no leading slash).
#: The same tools as :data:`helpers.lessons.basecompare.TOOLS`, which asks a running container instead.
TOOL_FILES = {
    "gcc": "usr/bin/gcc",
    "make": "usr/bin/make",
    "pg_config (libpq-dev)": "usr/bin/pg_config",
    "Python.h (python3-dev)": "usr/include/python3*/Python.h",
    "libpq.so.5 (libpq5)": "usr/lib/*/libpq.so.5",
    "git": "usr/bin/git",
    "curl": "usr/bin/curl",
}


def is_archive(source: str | os.PathLike[str]) -> bool:
    """True when ``source`` is a file (an archive), False for an image reference."""
    return isinstance(source, Path) or os.path.isfile(os.fspath(source))


def _read(source: str | os.PathLike[str], client: Any = None) -> ImageArchive:
    return read_archive(source) if is_archive(source) else read_engine_image_fast(str(source), client)


def layer_sizes(archive: ImageArchive) -> list[int]:
    """Bytes of the files of each layer (bottom first)."""
    return [sum(e[1] for e in layer.entries if e[2] in ("0", "7", "")) for layer in archive.layers]


def archive_layers(source: str | os.PathLike[str], client: Any = None) -> Any:
    """An image's layers from the base up, read from its archive: DataFrame ``instruction``, ``size`` (bytes).

    The same shape as :func:`helpers.lessons.caching.image_layers` (``docker history``), metadata-only
    instructions included with size 0.
    """
    import pandas as pd

    archive = _read(source, client)
    sizes = iter(layer_sizes(archive))
    rows = []
    for h in archive.config.get("history") or []:
        size = 0 if h.get("empty_layer") else next(sizes, 0)
        rows.append({"instruction": " ".join(_instruction(h.get("created_by", "")).split()), "size": size})
    rows += [{"instruction": "(layer without history)", "size": s} for s in sizes]
    return pd.DataFrame(rows, columns=["instruction", "size"])


def visible_files(archive: ImageArchive) -> dict[str, int]:
    """The files of the final image (path without leading slash -> size), whiteouts applied."""
    seen: dict[str, int] = {}
    for layer in archive.layers:
        for name, size, typ, _link in layer.entries:
            name = name.lstrip("/")
            base, parent = posixpath.basename(name), posixpath.dirname(name)
            if base == ".wh..wh..opq":
                prefix = parent + "/"
                for p in [p for p in seen if p.startswith(prefix)]:
                    del seen[p]
            elif base.startswith(".wh."):
                gone = posixpath.join(parent, base[4:])
                for p in [p for p in seen if p == gone or p.startswith(gone + "/")]:
                    del seen[p]
            else:
                seen[name] = size if typ in ("0", "7", "") else 0
    return seen


def files_present(
    source: str | os.PathLike[str], patterns: dict[str, str] | None = None, client: Any = None
) -> dict[str, bool]:
    """Which of ``patterns`` (label -> path glob, default :data:`TOOL_FILES`) the image ships."""
    files = visible_files(_read(source, client))
    return {label: any(fnmatch.fnmatchcase(p, glob) for p in files) for label, glob in (patterns or TOOL_FILES).items()}


def files_table(
    sources: dict[str, str | os.PathLike[str]], patterns: dict[str, str] | None = None, client: Any = None
) -> Any:
    """DataFrame: one row per label of ``patterns`` (default :data:`TOOL_FILES`), a yes/no column per image."""
    import pandas as pd

    patterns = patterns or TOOL_FILES
    found = {name: files_present(source, patterns, client) for name, source in sources.items()}
    return pd.DataFrame({"tool": list(patterns), **{n: [f[k] for k in patterns] for n, f in found.items()}})


def shared_layers(sources: dict[str, str | os.PathLike[str]], client: Any = None) -> Any:
    """One row per distinct layer of several images: ``layer`` (short diff id), ``size`` (bytes),
    ``images`` (which use it), ``shared_by`` (how many), ``instruction`` (the first image's)."""
    import pandas as pd

    rows: dict[str, dict[str, Any]] = {}
    for name, source in sources.items():
        archive = _read(source, client)
        diff_ids = (archive.config.get("rootfs") or {}).get("diff_ids") or []
        made_by = [h for h in archive.config.get("history") or [] if not h.get("empty_layer")]
        for i, size in enumerate(layer_sizes(archive)):
            key = diff_ids[i] if i < len(diff_ids) else f"{name}:{i}"
            row = rows.setdefault(
                key,
                {
                    "layer": key.split(":")[-1][:12],
                    "size": size,
                    "images": [],
                    "instruction": _instruction(made_by[i].get("created_by", ""))[:60] if i < len(made_by) else "",
                },
            )
            row["images"].append(name)
    frame = pd.DataFrame(list(rows.values()), columns=["layer", "size", "images", "instruction"])
    frame.insert(3, "shared_by", frame["images"].map(len))
    frame["images"] = frame["images"].map(", ".join)
    return frame.sort_values(["shared_by", "size"], ascending=False, ignore_index=True)


def sharing_summary(layers: Any) -> dict[str, int]:
    """Bytes if every image stored its own layers, bytes stored once per layer, and the saving."""
    separate = int((layers["size"] * layers["shared_by"]).sum())
    once = int(layers["size"].sum())
    return {"each image alone": separate, "layers stored once": once, "saved by sharing": separate - once}
