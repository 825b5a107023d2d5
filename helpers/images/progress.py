"""The one reader of BuildKit's plain progress output (``docker build --progress=plain``).

BuildKit prints numbered vertices: ``#7 [builder 3/4] RUN make`` starts a step, ``#7 0.52 ...``
is its output, and ``#7 DONE 1.2s``, ``#7 CACHED`` or ``#7 ERROR: ...`` ends it. This module
classifies such lines (:func:`parse_line`) and folds them into steps (:class:`PlainProgress`),
either live, line by line as a build prints them, or from a whole log
(:func:`parse_plain_progress`). The build, the cache timeline and the notebook widget all read
the output through these objects, so the format is known in one place only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from helpers.images.buildmodel import BuildStep

__all__ = ["ProgressLine", "StepProgress", "PlainProgress", "parse_line", "parse_plain_progress"]

_STEP = re.compile(r"^#(?P<v>\d+) \[(?:(?P<stage>[\w.-]+) )?\s*(?P<n>\d+)/(?P<total>\d+)\] (?P<instr>.+)$")
_END = re.compile(r"^#(?P<v>\d+) (?P<kind>DONE|CACHED|ERROR)(?: (?P<secs>\d+(?:\.\d+)?)s)?")
_OUTPUT = re.compile(r"^#(?P<v>\d+) (?:(?P<t>\d+\.\d+) )?(?P<text>.*)$")
_PARSE_ERR = re.compile(r"dockerfile parse error (?:on )?line (\d+): (.+)", re.I)
_NOISE = re.compile(r"^#\d+ (?:sha256:|\[internal\]|transferring|DONE|CACHED|resolve)")
_SUMMARY = re.compile(r"^ERROR: (?:executor failed|failed to solve|process .* did not complete)")
_SPECIFIC = re.compile(r"^\s*(?:Error|ERROR|E|fatal|FATAL):\s")


@dataclass(frozen=True)
class ProgressLine:
    """One line of plain progress, classified.

    Attributes:
        kind: "step" (a step starts), "done", "cached", "error", "output" (a vertex's own
            output) or "other" (not a vertex line).
        vertex: The ``#N`` number (-1 for "other").
        stage: The stage name of a "step" line ("" for an unnamed stage).
        index: ``n`` of ``[n/total]`` ("step" only).
        total: ``total`` of ``[n/total]`` ("step" only).
        text: The instruction ("step"), the output without its prefix ("output"), the whole line otherwise.
        seconds: BuildKit's own duration of a "done" line.
    """

    kind: str
    vertex: int = -1
    stage: str = ""
    index: int = 0
    total: int = 0
    text: str = ""
    seconds: float | None = None

    @property
    def label(self) -> str:
        """``[stage n/total] instruction`` as BuildKit shows a step ("" for other kinds)."""
        if self.kind != "step":
            return ""
        return f"[{self.stage + ' ' if self.stage else ''}{self.index}/{self.total}] {self.text}"


def parse_line(line: str) -> ProgressLine:
    """Classify one line of plain progress (see :class:`ProgressLine`)."""
    if m := _STEP.match(line):
        return ProgressLine(
            "step", int(m["v"]), m["stage"] or "", int(m["n"]), int(m["total"]), m["instr"].strip(), None
        )
    if m := _END.match(line):
        secs = float(m["secs"]) if m["secs"] else None
        return ProgressLine(m["kind"].lower(), int(m["v"]), text=line, seconds=secs)
    if m := _OUTPUT.match(line):
        return ProgressLine("output", int(m["v"]), text=m["text"])
    return ProgressLine("other", text=line)


@dataclass
class StepProgress:
    """What is known about one step (a vertex that names a Dockerfile instruction).

    Attributes:
        number: The vertex number.
        stage: The stage name ("" for an unnamed stage).
        instruction: The instruction, e.g. ``RUN pip install -r requirements.txt``.
        cached: It came from the cache.
        seconds: BuildKit's duration (0.0 until ``DONE``).
        failed: It ended with ``ERROR``.
        started: Clock time when it was first seen, corrected by BuildKit's duration (live feeds).
        ended: Clock time of its DONE/CACHED/ERROR line (None while it runs).
        output: Its own output lines, without the ``#N 0.123`` prefix.
    """

    number: int
    stage: str
    instruction: str
    cached: bool = False
    seconds: float = 0.0
    failed: bool = False
    started: float = 0.0
    ended: float | None = None
    output: list[str] = field(default_factory=list)

    def as_build_step(self) -> BuildStep:
        """The step as a :class:`helpers.images.buildmodel.BuildStep`."""
        return BuildStep(self.number, self.instruction, self.cached, self.seconds)


class PlainProgress:
    """Fold plain progress lines into steps: ``p = PlainProgress(); p.feed(line)`` for each line.

    Args:
        clock: Returns the current time for ``started``/``ended`` (default: no clock, times stay 0).
    """

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock
        self._steps: dict[int, StepProgress] = {}
        self.lines: list[str] = []

    def feed(self, line: str) -> ProgressLine:
        """Take one line; returns it classified."""
        self.lines.append(line)
        now = self._clock() if self._clock else 0.0
        p = parse_line(line)
        step = self._steps.get(p.vertex)
        if p.kind == "step" and step is None:
            self._steps[p.vertex] = StepProgress(p.vertex, p.stage, p.text, started=now)
        elif step is None:
            pass
        elif p.kind in ("done", "cached", "error"):
            step.ended = now
            step.cached = step.cached or p.kind == "cached"
            step.failed = step.failed or p.kind == "error"
            if p.seconds is not None:  # BuildKit's own duration is more exact than when the line got printed
                step.seconds = p.seconds
                step.started = max(0.0, now - p.seconds) if self._clock else 0.0
        elif p.kind == "output" and p.text.strip():
            step.output.append(p.text)
        return p

    def feed_all(self, log: str) -> PlainProgress:
        """Take a whole log; returns self."""
        for line in log.splitlines():
            self.feed(line)
        return self

    @property
    def steps(self) -> list[StepProgress]:
        """The steps seen so far, by vertex number."""
        return [self._steps[k] for k in sorted(self._steps)]

    def build_steps(self) -> list[BuildStep]:
        """The steps as :class:`helpers.images.buildmodel.BuildStep` objects."""
        return [s.as_build_step() for s in self.steps]

    @property
    def failed(self) -> str:
        """The instruction of the (last) step that failed, or ""."""
        bad = [s for s in self.steps if s.failed]
        return bad[-1].instruction if bad else ""

    def parse_error(self) -> tuple[int, str] | None:
        """``(line, message)`` when BuildKit said the Dockerfile does not parse, else None."""
        m = _PARSE_ERR.search("\n".join(self.lines))
        return (int(m.group(1)), m.group(2).strip()) if m else None

    def error_tail(self, n: int = 15) -> list[str]:
        """The last lines of a failed build: the failing step's own output when it can be found."""
        errors = [p.vertex for ln in self.lines if (p := parse_line(ln)).kind == "error"]
        if errors:
            own = [
                p.text if p.kind == "output" else ln.split(" ", 1)[1]
                for ln in self.lines
                if (p := parse_line(ln)).vertex == errors[-1] and p.kind != "step"
            ]
            own = [t for t in own if t.strip()]
            if own:
                return _around_first_error(own, n)
        return [ln for ln in self.lines if ln.strip() and not _NOISE.match(ln)][-n:]


def parse_plain_progress(log: str) -> tuple[list[BuildStep], str]:
    """Parse a whole BuildKit ``--progress=plain`` log.

    Returns:
        The steps in order, and the instruction of the step that failed ("" if none).
    """
    p = PlainProgress().feed_all(log)
    return p.build_steps(), p.failed


def _around_first_error(lines: list[str], n: int) -> list[str]:
    """Up to ``n`` lines: from just before the first line that names an error, plus the last line."""
    candidates = [i for i, ln in enumerate(lines) if _SPECIFIC.match(ln) and not _SUMMARY.match(ln)]
    candidates += [i for i, ln in enumerate(lines) if re.search(r"\berror\b", ln, re.I) and not _SUMMARY.match(ln)]
    first = candidates[0] if candidates else len(lines) - 1
    start = max(0, first - 2)
    if len(lines) - start <= n:
        return lines[start:]
    return lines[start : start + n - 2] + ["..."] + lines[-1:]
