"""Pictures of scan results: findings by severity, before versus after."""

from __future__ import annotations

from typing import Any

from helpers.figures import axes
from helpers.supplychain.severity import SEVERITIES

__all__ = ["plot_severity", "plot_scan_comparison"]

_COLORS = {"UNKNOWN": "#9e9e9e", "LOW": "#4caf50", "MEDIUM": "#ffc107", "HIGH": "#ff5722", "CRITICAL": "#b71c1c"}


def plot_severity(result: Any, ax: Any = None, title: str = "") -> Any:
    """Bar chart of one scan's findings per severity.

    Args:
        result: A :class:`helpers.supplychain.scan.ScanResult`.
        ax: Axes to draw on (a new figure when None).
        title: Title (default: the image and the advisory source).

    Returns:
        The Axes.
    """
    ax = axes(ax, (6, 3))
    counts = result.counts()
    bars = ax.bar(SEVERITIES, [counts[s] for s in SEVERITIES], color=[_COLORS[s] for s in SEVERITIES])
    ax.bar_label(bars)
    _axis(ax, max(counts.values()))
    ax.set_title(title or f"{result.image}\n({result.source})", fontsize=10)
    return ax


def plot_scan_comparison(before: Any, after: Any, ax: Any = None, labels: tuple[str, str] = ("before", "after")) -> Any:
    """Grouped bars: findings per severity in two scans (e.g. before and after remediation)."""
    import numpy as np

    ax = axes(ax, (7, 3.2))
    x = np.arange(len(SEVERITIES))
    cb, ca = before.counts(), after.counts()
    b1 = ax.bar(x - 0.2, [cb[s] for s in SEVERITIES], 0.4, label=labels[0], color="#90a4ae")
    b2 = ax.bar(x + 0.2, [ca[s] for s in SEVERITIES], 0.4, label=labels[1], color="#26a69a")
    ax.bar_label(b1)
    ax.bar_label(b2)
    ax.set_xticks(x, SEVERITIES)
    _axis(ax, max([*cb.values(), *ca.values()]))
    ax.legend()
    ax.set_title("Findings by severity", fontsize=10)
    return ax


def _axis(ax: Any, top: int) -> None:
    """Integer ticks; a symmetric-log scale when one bar dwarfs the others (so 1 next to 136 stays visible)."""
    from matplotlib.ticker import MaxNLocator

    if top > 20:
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylabel("findings (log scale)")
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("findings")
    ax.set_ylim(0, max(top, 1) * (3 if top > 20 else 1.2))
