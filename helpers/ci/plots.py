"""Plots for the CI lessons: build timelines, cache round trips, pipeline stages.

Each function takes what a helper just measured, draws on ``ax`` (a new figure when None)
and returns the Axes.
"""

from __future__ import annotations

from typing import Any

from helpers.figures import axes

__all__ = ["plot_build_timeline", "plot_cache_roundtrip", "plot_pipeline"]


def plot_build_timeline(build: Any, ax: Any = None, title: str = "") -> Any:
    """A Gantt chart of a :class:`helpers.ci.buildcache.TimedBuild`: one row per step, coloured by stage."""
    ax = axes(ax, (9, 0.35 * max(4, len(build.steps)) + 1))
    stages = sorted({s.stage for s in build.steps})
    colours = {st: f"C{i}" for i, st in enumerate(stages)}
    steps = sorted(build.steps, key=lambda s: (s.start, s.number))
    for row, s in enumerate(steps):
        width = max(s.end - s.start, 0.05)
        ax.barh(row, width, left=s.start, color=colours[s.stage], alpha=0.35 if s.cached else 0.9)
        ax.text(
            s.start + width + 0.2,
            row,
            (s.instruction[:45] + (" (cached)" if s.cached else "")),
            va="center",
            fontsize=7,
        )
    ax.set_yticks(range(len(steps)), [f"[{s.stage}]" for s in steps], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the build started")
    ax.set_xlim(0, build.seconds * 1.6 + 1)
    ax.set_title(title or f"BuildKit timeline: {build.seconds:.1f} s wall, {build.serial_seconds:.1f} s of steps")
    return ax


def plot_cache_roundtrip(rt: Any, ax: Any = None) -> Any:
    """Bars: cold build versus the rebuild that imported its cache (a :class:`CacheRoundTrip`)."""
    ax = axes(ax, (6, 2.5))
    labels = ["cold build", "push (inline cache)", "rebuild, cache\nimported"]
    values = [rt.cold.seconds, rt.push_seconds, rt.imported.seconds]
    bars = ax.barh(labels, values, color=["C3", "C7", "C2"])
    for bar, v in zip(bars, values, strict=True):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {v:.1f} s", va="center")
    ax.invert_yaxis()
    ax.set_xlabel("seconds (measured just now)")
    ax.set_title(f"Imported-cache rebuild = {rt.ratio:.0%} of the cold build")
    return ax


def plot_pipeline(report: Any, ax: Any = None) -> Any:
    """A timeline of a :class:`helpers.ci.pipeline.PipelineReport`: one bar per stage, in the order they ran.

    Stages run one after the other, so each bar starts where the previous one ended; red = failed,
    grey = skipped (``push`` on a feature branch).
    """
    ax = axes(ax, (8, 0.4 * len(report.stages) + 1))
    start = 0.0
    for row, s in enumerate(report.stages):
        colour = "C7" if s.detail.startswith("skipped") else ("C2" if s.ok else "C3")
        ax.barh(row, max(s.seconds, 0.05), left=start, color=colour)
        ax.text(start + max(s.seconds, 0.05) + 0.2, row, f"{s.seconds:.1f} s", va="center", fontsize=7)
        start += s.seconds
    ax.set_yticks(range(len(report.stages)), [s.name for s in report.stages])
    ax.invert_yaxis()
    ax.set_xlim(0, start * 1.15 + 1)
    ax.set_xlabel("seconds since the pipeline started")
    ax.set_title(f"Local pipeline run: exit status {report.exit_code}")
    return ax
