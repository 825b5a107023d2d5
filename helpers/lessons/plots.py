"""Charts of what the lessons measure: build-step times, grouped bars, a health timeline.

Same theme-neutral style as :mod:`helpers.lessons.diagrams` (transparent background, mid-tone fills,
grey text). Each function takes ``ax=None`` and returns the Axes; the values passed in are
the ones the notebook just measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from helpers.figures import axes
from helpers.lessons.diagrams import _INSIDE, NEUTRAL, PALETTE, neutralize

__all__ = ["build_steps_chart", "measured_bars", "status_timeline"]


def build_steps_chart(frames: dict[str, Any], ax: Any = None) -> Any:
    """Horizontal bars of build-step times, one group per build, cached steps marked.

    Args:
        frames: build name -> DataFrame with ``instruction``, ``cached``, ``seconds``
            (``BuildResult.steps_frame()``).
        ax: Axes to draw on.

    Returns:
        The Axes.
    """
    rows: list[tuple[str, str, bool, float]] = []
    for name, df in frames.items():
        for r in df.itertuples():
            rows.append((name, str(r.instruction), bool(r.cached), float(r.seconds)))
    ax = axes(ax, (10, 0.35 * max(len(rows), 3) + 1.2))
    labels = [f"{name}: {instr[:50]}" for name, instr, _, _ in rows]
    ys = list(range(len(rows)))[::-1]
    colors = [PALETTE["green"] if cached else PALETTE["orange"] for _, _, cached, _ in rows]
    floor = max([s for *_, s in rows] + [0.1]) * 0.015  # cached steps stay visible as a thin green bar
    ax.barh(ys, [max(s, floor) for *_, s in rows], color=colors)
    ax.set_yticks(ys, labels, fontsize=8)
    for y, (_, _, cached, s) in zip(ys, rows, strict=True):
        ax.text(max(s, floor), y, f" {'cached' if cached else f'{s:.1f} s'}", va="center", color=NEUTRAL, fontsize=8)
    ax.set_xlabel("seconds (green = from cache, orange = ran)")
    neutralize(ax)
    return ax


def measured_bars(
    labels: Sequence[str], series: dict[str, Sequence[float]], xlabel: str, ax: Any = None, title: str = ""
) -> Any:
    """Grouped horizontal bars of measured values, each bar labelled with its value.

    Args:
        labels: One label per group (y axis).
        series: Series name -> one value per label (e.g. ``{"size": [...], "reclaimable": [...]}``).
        xlabel: Axis label with the unit.
        ax: Axes to draw on.
        title: Optional title.

    Returns:
        The Axes.
    """
    ax = axes(ax, (9, 0.5 * len(labels) * max(len(series), 1) + 1.2))
    colors = [PALETTE["blue"], PALETTE["orange"], PALETTE["green"], PALETTE["purple"]]
    k = max(len(series), 1)
    height = 0.8 / k
    ys = list(range(len(labels)))[::-1]
    top = max([float(v) for vals in series.values() for v in vals] + [0.0]) or 1.0
    for j, (name, values) in enumerate(series.items()):
        pos = [y + 0.4 - height * (j + 0.5) for y in ys]
        ax.barh(pos, values, height=height * 0.9, color=colors[j % len(colors)], label=name)
        for y, v in zip(pos, values, strict=True):
            ax.text(float(v) + top * 0.01, y, _number(float(v)), va="center", color=NEUTRAL, fontsize=8)
    ax.set_yticks(ys, list(labels), fontsize=9)
    ax.set_xlim(0, top * 1.15)
    ax.set_xlabel(xlabel)
    if len(series) > 1:
        leg = ax.legend(frameon=False, fontsize=8)
        for t in leg.get_texts():
            t.set_color(NEUTRAL)
    if title:
        ax.set_title(title)
    neutralize(ax)
    return ax


def status_timeline(timeline: Any, end: float | None = None, ax: Any = None) -> Any:
    """A container's health status over time, from a DataFrame of (seconds, status) changes."""
    colors = {"starting": PALETTE["grey"], "healthy": PALETTE["green"], "unhealthy": PALETTE["red"]}
    ax = axes(ax, (9, 1.6))
    rows = list(timeline.itertuples())
    stop = end if end is not None else (float(rows[-1].seconds) + 1.0 if rows else 1.0)
    for k, r in enumerate(rows):
        t1 = float(rows[k + 1].seconds) if k + 1 < len(rows) else stop
        ax.barh(0, t1 - float(r.seconds), left=float(r.seconds), color=colors.get(r.status, PALETTE["purple"]))
        ax.text(
            float(r.seconds) + 0.05, 0, f"{r.status}\n@{float(r.seconds):.1f} s", va="center", color=_INSIDE, fontsize=8
        )
    ax.set_yticks([])
    ax.set_xlim(0, stop)
    ax.set_xlabel("seconds since the container started (measured)")
    neutralize(ax)
    return ax


def _number(v: float) -> str:
    """A measured value, short: 2,385 / 26.9 / 0.327."""
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.1f}"
    return f"{v:.3g}"
