"""Plots for the notebooks. Every function takes ``ax=None`` (a new figure) and returns the Axes.

Sections are grouped by concept; each plots numbers a notebook has just measured.
"""

from __future__ import annotations

from typing import Any

from helpers.figures import axes as _axes
from helpers.images.inspect import layers_frame

__all__ = ["plot_image_sizes", "plot_build_times", "plot_layer_sizes", "plot_build_steps"]


# --- image sizes and build times (Labs 1-2) -------------------------------------------------


def plot_image_sizes(df: Any, ax: Any = None, column: str = "size_mb") -> Any:
    """Horizontal bars of image sizes, one per row of a :func:`helpers.images.inspect.compare_images` frame."""
    ax = _axes(ax, (7, 0.6 + 0.5 * len(df)))
    values = df[column]
    bars = ax.barh([str(i) for i in df.index], values, color="#4C72B0")
    for bar, v in zip(bars, values):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {v:.0f} MB", va="center")
    ax.invert_yaxis()
    ax.set_xlabel("image size (MB)")
    ax.set_xlim(0, float(values.max()) * 1.2 if len(values) else 1)
    ax.set_title("Image size (measured)")
    return ax


def plot_build_times(df: Any, ax: Any = None) -> Any:
    """Grouped bars of build times: rows are images, columns are situations (seconds).

    Args:
        df: DataFrame indexed by image, one column per situation (e.g. "cold",
            "source change", "dependency change"), values in seconds (NaN: not measured, no bar).
    """
    import numpy as np

    ax = _axes(ax)
    n_rows, n_cols = df.shape
    width = 0.8 / max(n_cols, 1)
    x = np.arange(n_rows)
    for i, col in enumerate(df.columns):
        bars = ax.bar(x + i * width - 0.4 + width / 2, df[col], width, label=str(col))
        for bar, v in zip(bars, df[col]):
            if v != v:  # NaN: not measured
                continue
            ax.text(
                bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{v:.1f}", ha="center", va="bottom", fontsize=8
            )
    ax.set_xticks(x, [str(i) for i in df.index])
    ax.set_ylabel("seconds")
    ax.set_title("Build time (measured)")
    ax.legend(fontsize=8)
    return ax


def plot_layer_sizes(facts: Any, ax: Any = None, min_mb: float = 0.01) -> Any:
    """Bars of an image's layer sizes (oldest at the top), from :class:`helpers.images.inspect.ImageFacts`."""

    df = layers_frame(facts)
    df = df[df["size_mb"] >= min_mb]
    ax = _axes(ax, (8, 0.6 + 0.4 * len(df)))
    ax.barh(range(len(df)), df["size_mb"], color="#55A868")
    ax.set_yticks(range(len(df)), df["created_by"].str.slice(0, 50), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("layer size (MB)")
    ax.set_title(f"Layers of {facts.ref} ({facts.size_mb:.0f} MB)")
    return ax


def plot_build_steps(result: Any, ax: Any = None) -> Any:
    """Seconds per build step, cached steps in grey, from a :class:`helpers.images.build.BuildResult`."""
    steps = [s for s in result.steps if not s.instruction.startswith(("FROM", "[internal]"))]
    ax = _axes(ax, (8, 0.6 + 0.4 * len(steps)))
    colors = ["#BBBBBB" if s.cached else "#C44E52" for s in steps]
    ax.barh(range(len(steps)), [s.seconds for s in steps], color=colors)
    ax.set_yticks(range(len(steps)), [s.instruction[:50] for s in steps], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("seconds (grey: from cache)")
    ax.set_title(f"Build steps: {result.cache_hits} cached, {result.seconds:.1f} s in total")
    return ax
