"""Pictures of layer analyses. Each function takes ``ax=None`` and returns the Axes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpers.figures import axes

__all__ = ["plot_layer_stack", "plot_wasted_paths", "plot_top_dirs", "plot_dive_vs_true"]

_MB = 1e6
#: Size of a new figure (inches).
_SIZE = (8.0, 4.0)


def plot_layer_stack(analyses: Mapping[str, Any], ax: Any = None) -> Any:
    """Stacked bars: one bar per image, one segment per layer (MB), base layer at the bottom.

    Args:
        analyses: label -> :class:`~helpers.layers.analysis.LayerAnalysis`.
    """
    import matplotlib.pyplot as plt

    ax = axes(ax, _SIZE)
    cmap = plt.get_cmap("tab20")
    for x, (_label, a) in enumerate(analyses.items()):
        bottom = 0.0
        for layer in a.layers:
            h = layer.size_bytes / _MB
            ax.bar(x, h, bottom=bottom, color=cmap(layer.index % 20), edgecolor="white", linewidth=0.5)
            if h > 0.04 * max(b.size_bytes / _MB for b in analyses.values()):
                ax.text(x, bottom + h / 2, (layer.command or "(base)")[:28], ha="center", va="center", fontsize=7)
            bottom += h
        ax.text(x, bottom, f"{bottom:.1f} MB", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(analyses)), list(analyses), rotation=0)
    ax.set_ylabel("size (MB)")
    ax.set_title("Layer sizes per image (bottom = base layer)")
    return ax


def plot_wasted_paths(analysis: Any, n: int = 10, ax: Any = None) -> Any:
    """Horizontal bars: the ``n`` biggest paths whose bytes ship but are invisible (true waste).

    Bars are coloured by why the bytes are invisible; a dot marks paths dive counts too.
    """
    ax = axes(ax, _SIZE)
    df = analysis.wasted_frame()
    if df.empty:
        ax.text(0.5, 0.5, "no wasted bytes", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    df = df.head(n).iloc[::-1]
    colors = {"deleted": "tab:red", "overwritten": "tab:orange", "hidden by opaque directory": "tab:purple"}
    dive_paths = {p for p, _c, _s in analysis.inefficient_files}
    y = range(len(df))
    ax.barh(list(y), df["size_bytes"] / 1e3, color=[colors.get(r, "gray") for r in df["reason"]])
    ax.set_yticks(list(y), [f"{p}  (layer {lay})" for p, lay in zip(df["path"], df["layer"], strict=True)], fontsize=8)
    for yy, (p, s) in enumerate(zip(df["path"], df["size_bytes"], strict=True)):
        if p in dive_paths:
            ax.plot(s / 1e3, yy, "k.", markersize=6)
    ax.set_xlabel("kB shipped but invisible in the final image")
    handles = [__import__("matplotlib.patches").patches.Patch(color=c, label=r) for r, c in colors.items()]
    ax.legend(handles=handles, fontsize=7, loc="lower right", title="• = dive counts it too", title_fontsize=7)
    ax.set_title("Biggest wasted paths")
    return ax


def plot_top_dirs(analysis: Any, ax: Any = None) -> Any:
    """Stacked horizontal bars: visible bytes by top-level directory, one colour per layer."""
    import matplotlib.pyplot as plt

    ax = axes(ax, _SIZE)
    df = analysis.top_dirs_frame()
    pivot = df.pivot_table(index="top", columns="layer", values="size_bytes", aggfunc="sum", fill_value=0)
    pivot = pivot.loc[pivot.sum(axis=1).sort_values().index]
    left = [0.0] * len(pivot)
    cmap = plt.get_cmap("tab20")
    for layer in pivot.columns:
        vals = (pivot[layer] / _MB).tolist()
        ax.barh(range(len(pivot)), vals, left=left, color=cmap(int(layer) % 20), label=f"layer {layer}")
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_yticks(range(len(pivot)), list(pivot.index))
    ax.set_xlabel("visible size (MB)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Final image size by top-level directory")
    return ax


def plot_dive_vs_true(analyses: Mapping[str, Any], ax: Any = None) -> Any:
    """Grouped bars per image: dive's wasted bytes vs the true wasted bytes (MB)."""
    ax = axes(ax, _SIZE)
    labels = list(analyses)
    xs = range(len(labels))
    dive = [a.wasted_bytes / _MB for a in analyses.values()]
    true = [a.true_wasted_bytes / _MB for a in analyses.values()]
    ax.bar([x - 0.2 for x in xs], dive, width=0.4, label="dive: wasted bytes")
    ax.bar([x + 0.2 for x in xs], true, width=0.4, label="true: bytes shipped but invisible")
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("MB")
    ax.legend(fontsize=8)
    ax.set_title("What dive counts vs what really ships")
    return ax
