"""Layer analysis of an image, from the engine or from a ``docker save`` archive.

Two sets of figures side by side:

* dive's (``efficiency``, ``wasted_bytes``, ``user_wasted_percent``), equal to what
  ``dive IMAGE --json`` reports (see :mod:`helpers.layers.filetree` for how dive counts);
* the true ones (``true_efficiency``, ``true_wasted_bytes``, ``true_user_wasted_percent``):
  every byte that ships in a layer but is not visible in the final image, including
  directories deleted or hidden by an opaque whiteout in a later layer, which dive misses.
"""

from __future__ import annotations

import gc
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from helpers.archive.model import ImageArchive
from helpers.archive.reader import read_archive, read_engine_image_fast
from helpers.archive.tarstream import Entry
from helpers.layers.filetree import OPAQUE, WHITEOUT, LayerTree, WastedFile, dive_efficiency, true_waste

__all__ = ["LayerInfo", "LayerAnalysis", "analyze_layers", "analyze_archive", "looks_like_archive"]


@dataclass
class LayerInfo:
    """One layer: its size, the instruction that made it, and its file changes."""

    index: int
    size_bytes: int
    command: str
    diff_id: str
    files: int
    added: int
    modified: int
    removed: int
    true_wasted_bytes: int = 0


@dataclass
class LayerAnalysis:
    """The analysis of one image.

    The dive-compatible figures are ``size_bytes``, ``wasted_bytes``, ``efficiency`` and
    ``user_wasted_percent``; the ``true_*`` ones also count bytes of deleted directories.
    """

    source: str
    tags: list[str]
    size_bytes: int
    user_size_bytes: int
    wasted_bytes: int
    efficiency: float
    user_wasted_percent: float
    true_wasted_bytes: int
    true_efficiency: float
    true_user_wasted_percent: float
    layers: list[LayerInfo]
    inefficient_files: list[tuple[str, int, int]] = field(repr=False, default_factory=list)
    wasted_files: list[WastedFile] = field(repr=False, default_factory=list)
    changes: list[tuple[int, str, str, int]] = field(repr=False, default_factory=list)
    visible: list[tuple[str, int, int]] = field(repr=False, default_factory=list)

    def to_dict(self, files: bool = False) -> dict[str, Any]:
        """A JSON-ready dict (the CLI's ``--json``); ``files=True`` adds the file lists."""
        out = {
            k: v
            for k, v in asdict(self).items()
            if k not in ("inefficient_files", "wasted_files", "changes", "visible")
        }
        for key in ("user_wasted_percent", "true_user_wasted_percent"):
            v = out[key]
            out[key] = None if v != v else (v if v != float("inf") else "inf")
        out["inefficient_files"] = [{"path": p, "count": c, "size_bytes": s} for p, c, s in self.inefficient_files]
        if files:
            out["wasted_files"] = [asdict(w) for w in self.wasted_files]
        return out

    def layers_frame(self) -> Any:
        """Per layer: index, size_bytes, true_wasted_bytes, command, added, modified, removed."""
        import pandas as pd

        return pd.DataFrame([asdict(x) for x in self.layers])

    def changes_frame(self, layer: int | None = None) -> Any:
        """File changes (layer, path, change, size_bytes), optionally of one layer."""
        import pandas as pd

        df = pd.DataFrame(self.changes, columns=["layer", "path", "change", "size_bytes"])
        return df if layer is None else df[df["layer"] == layer].reset_index(drop=True)

    def wasted_frame(self) -> Any:
        """Bytes that ship but are invisible: path, layer, size_bytes, reason, by_layer (biggest first)."""
        import pandas as pd

        df = pd.DataFrame(
            [asdict(w) for w in self.wasted_files], columns=["path", "layer", "size_bytes", "reason", "by_layer"]
        )
        return df.sort_values("size_bytes", ascending=False, kind="stable").reset_index(drop=True)

    def top_dirs_frame(self) -> Any:
        """Visible bytes of the final image by top-level directory, per layer (columns: top, layer, size_bytes)."""
        import pandas as pd

        df = pd.DataFrame(self.visible, columns=["path", "layer", "size_bytes"])
        df["top"] = "/" + df["path"].str.split("/").str[1]
        return df.groupby(["top", "layer"], as_index=False)["size_bytes"].sum()


def looks_like_archive(source: str) -> bool:
    """True when SOURCE names a file (an archive) rather than an image reference."""
    return os.path.isfile(source) or source.endswith((".tar", ".tar.gz", ".tgz"))


def analyze_layers(source: str, client: Any = None) -> LayerAnalysis:
    """Analyse an image given by reference (from the engine) or by archive path.

    Args:
        source: ``python:3.12-slim``-style reference, ``docker://ref``, or a path to a
            ``docker save`` archive (``docker-archive:path`` also works).
        client: docker-py client for engine sources.

    Raises:
        ImageNotFound: The engine has no such image.
        NotAnImageArchive: The file is not an image archive.
        EngineUnavailable: An image reference was given and no engine answers.
    """
    gc_was_on = gc.isenabled()
    gc.disable()  # many small objects, no garbage until the end: the cyclic GC would only slow this down
    try:
        return _analyze(source, client)
    finally:
        if gc_was_on:
            gc.enable()


def _analyze(source: str, client: Any) -> LayerAnalysis:
    if source.startswith("docker-archive:"):
        return analyze_archive(read_archive(source.split(":", 1)[1]))
    if source.startswith("docker://"):
        return analyze_archive(read_engine_image_fast(source[len("docker://") :], client))
    if looks_like_archive(source):
        return analyze_archive(read_archive(source))
    return analyze_archive(read_engine_image_fast(source, client))


def _commands(config: dict[str, Any], n: int) -> list[str]:
    """dive's pairing of layers with history entries (empty_layer entries skipped)."""
    history = config.get("history") or []
    out, h = [], 0
    for _ in range(n):
        while h < len(history) and history[h].get("empty_layer"):
            h += 1
        if h < len(history):
            cmd = history[h].get("created_by", "")
            h += 1
        else:
            cmd = "(missing)"
        out.append(cmd[len("/bin/sh -c ") :] if cmd.startswith("/bin/sh -c ") else cmd)
    return out


def _changes(layers: list[list[Entry]]) -> list[tuple[int, str, str, int]]:
    seen: set[str] = set()
    out = []
    for idx, entries in enumerate(layers):
        for path, size, typ, _link in entries:
            base = path.rsplit("/", 1)[-1]
            if base == OPAQUE:
                out.append((idx, "/" + path.rsplit("/", 1)[0] + "/*", "removed", 0))
            elif base.startswith(WHITEOUT):
                out.append(
                    (
                        idx,
                        "/" + path.rsplit("/", 1)[0] + "/" + base[len(WHITEOUT) :]
                        if "/" in path
                        else "/" + base[len(WHITEOUT) :],
                        "removed",
                        0,
                    )
                )
            elif typ != "5":
                out.append((idx, "/" + path, "modified" if path in seen else "added", size))
        seen.update(p for p, _s, t, _l in entries if t != "5")
    return out


def analyze_archive(archive: ImageArchive) -> LayerAnalysis:
    """Analyse an image already read with :func:`helpers.archive.reader.read_archive`."""
    entries = [layer.entries for layer in archive.layers]
    trees = [LayerTree.from_entries(e, i) for i, e in enumerate(entries)]
    dive = dive_efficiency(trees)
    sizes = [sum(e[1] for e in layer) for layer in entries]
    size = sum(sizes)
    user = size - (sizes[0] if sizes else 0)
    wasted, final = true_waste(entries)
    true_wasted = sum(w.size_bytes for w in wasted)
    per_layer = [0] * len(entries)
    for w in wasted:
        per_layer[w.layer] += w.size_bytes
    changes = _changes(entries)
    counts = [[0, 0, 0] for _ in entries]
    for idx, _p, change, _s in changes:
        counts[idx][("added", "modified", "removed").index(change)] += 1
    diff_ids = (archive.config.get("rootfs") or {}).get("diff_ids") or []
    cmds = _commands(archive.config, len(entries))
    infos = [
        LayerInfo(
            i, sizes[i], cmds[i], diff_ids[i] if i < len(diff_ids) else "", len(entries[i]), *counts[i], per_layer[i]
        )
        for i in range(len(entries))
    ]
    visible = [(n.path(), n.layer, n.size) for n in final.root.child_first() if n.size and not n.children]
    return LayerAnalysis(
        source=archive.source,
        tags=archive.tags,
        size_bytes=size,
        user_size_bytes=user,
        wasted_bytes=dive.wasted_bytes,
        efficiency=dive.efficiency,
        user_wasted_percent=_ratio(dive.wasted_bytes, user),
        true_wasted_bytes=true_wasted,
        true_efficiency=1.0 if size == 0 else 1 - true_wasted / size,
        true_user_wasted_percent=_ratio(true_wasted, user),
        layers=infos,
        inefficient_files=dive.inefficient_files,
        wasted_files=wasted,
        changes=changes,
        visible=visible,
    )


def _ratio(a: int, b: int) -> float:
    """Go's float64 division: x/0 is +Inf, 0/0 is NaN."""
    if b == 0:
        return float("nan") if a == 0 else float("inf")
    return a / b
