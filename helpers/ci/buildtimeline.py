"""BuildKit, measured in time: which stages are independent, and when each step ran.

:func:`stage_graph` reads a Dockerfile's stage dependencies offline; :func:`timed_build` runs
:func:`helpers.images.build.build` and records a wall-clock timeline of its steps from the
live BuildKit output (read by :class:`helpers.images.progress.PlainProgress`), so a notebook
can show independent stages running at the same time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.images.build import build
from helpers.images.progress import PlainProgress

__all__ = ["stage_graph", "StepTiming", "TimedBuild", "timed_build"]


def stage_graph(dockerfile_text: str) -> dict[str, list[str]]:
    """Which stages each stage needs (``FROM <stage>`` and ``COPY --from=<stage>``), read offline.

    Stages with no path between them are independent: BuildKit may build them at the same time.
    """
    graph: dict[str, list[str]] = {}
    current = ""
    for line in dockerfile_text.splitlines():
        if m := re.match(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", line, re.I):
            current = m.group(2) or f"stage-{len(graph)}"
            graph[current] = [m.group(1)] if m.group(1) in graph else []
        elif current and (m := re.search(r"--from=(\S+)", line)) and m.group(1) in graph:
            if m.group(1) not in graph[current]:
                graph[current].append(m.group(1))
    return graph


@dataclass
class StepTiming:
    """When one build step started and ended (seconds from the start of the build)."""

    number: int
    stage: str
    instruction: str
    start: float
    end: float
    cached: bool


@dataclass
class TimedBuild:
    """A build with a timeline of its steps."""

    seconds: float
    steps: list[StepTiming] = field(default_factory=list)
    image_id: str = ""
    log: str = ""

    def frame(self) -> Any:
        """The steps as a DataFrame (number, stage, instruction, start, end, cached, seconds)."""
        import pandas as pd

        df = pd.DataFrame(
            [s.__dict__ for s in self.steps], columns=["number", "stage", "instruction", "start", "end", "cached"]
        )
        df["seconds"] = df["end"] - df["start"]
        return df

    @property
    def serial_seconds(self) -> float:
        """What the steps would take one after another (sum of step durations)."""
        return sum(s.end - s.start for s in self.steps)

    def stage_spans(self) -> dict[str, tuple[float, float]]:
        """stage -> (first start, last end)."""
        spans: dict[str, tuple[float, float]] = {}
        for s in self.steps:
            a, b = spans.get(s.stage, (s.start, s.end))
            spans[s.stage] = (min(a, s.start), max(b, s.end))
        return spans

    def overlap_seconds(self) -> float:
        """How long at least two stages ran at the same time."""
        spans = sorted(self.stage_spans().values())
        total = 0.0
        for i, (a1, b1) in enumerate(spans):
            for a2, b2 in spans[i + 1 :]:
                total += max(0.0, min(b1, b2) - max(a1, a2))
        return total


def timed_build(context: str | Path, on_line: Callable[[str], None] | None = None, **kwargs: Any) -> TimedBuild:
    """:func:`helpers.images.build.build` with a wall-clock timeline of every step.

    Args:
        context: Build context.
        on_line: Also called with every log line.
        **kwargs: Passed to :func:`helpers.images.build.build` (dockerfile, tags, no_cache ...).
    """
    t0 = time.monotonic()
    progress = PlainProgress(clock=lambda: time.monotonic() - t0)

    def watch(line: str) -> None:
        progress.feed(line)
        if on_line:
            on_line(line)

    result = build(context, on_line=watch, **kwargs)
    steps = [
        StepTiming(
            s.number,
            s.stage or "default",
            s.instruction,
            s.started,
            s.ended if s.ended is not None else s.started,
            s.cached,
        )
        for s in progress.steps
    ]
    return TimedBuild(result.seconds, steps, result.image_id, result.log)
