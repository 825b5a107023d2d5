"""The grading engine's bounds: memory, processes and disk for what a submission builds and runs.

One submission is graded at a time on the grading engine (:mod:`helpers.grading.engine`), so its bounds are the
engine's: every RUN step of a build and every container it runs lives under one cgroup (memory and process
limits), and its data root (images, layers, build cache) is a fixed-size filesystem. What enforces them is in
:mod:`helpers.grading.engine_bounds`; this module says what they are (:class:`GradingLimits`, set here or by
environment variables), which were in force when the engine started (:class:`Bounds`, saved beside the grading
registry's state) and how a failure that hit one is worded for the student (:func:`name_bound`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers.grading.engine_env import current_grading_engine

__all__ = ["GradingLimits", "Bounds", "name_bound", "explain_failure", "BOUNDS_FILE"]

#: File in the grading engine's state directory recording the bounds in force (:class:`Bounds`).
BOUNDS_FILE = "bounds.json"


@dataclass(frozen=True)
class GradingLimits:
    """What the grading engine may use for one submission (its builds and containers together).

    Each is overridden by an environment variable when the grading engine starts
    (``COURSE_GRADING_MEMORY_MB``, ``COURSE_GRADING_PIDS``, ``COURSE_GRADING_DISK_GB``).

    Attributes:
        memory_mb: Memory, without swap, of every RUN step and container at once (MiB).
        pids: Processes and threads of every RUN step and container at once.
        disk_gb: Size of the filesystem holding the engine's images, layers and build cache (GB, 10**9 bytes);
            at most half of the free disk when it is first made.
    """

    memory_mb: int = 2048
    pids: int = 512
    disk_gb: int = 20

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GradingLimits:
        """The defaults, each replaced by its ``COURSE_GRADING_*`` variable when set (a positive integer)."""
        env = os.environ if env is None else env
        base = cls()
        got = {}
        for name, var in (("memory_mb", "MEMORY_MB"), ("pids", "PIDS"), ("disk_gb", "DISK_GB")):
            raw = env.get(f"COURSE_GRADING_{var}", "").strip()
            got[name] = int(raw) if raw.isdigit() and int(raw) > 0 else getattr(base, name)
        return cls(**got)


@dataclass(frozen=True)
class Bounds:
    """The bounds in force on the running grading engine (0: none), and why a missing one is missing.

    Attributes:
        memory_mb: Memory bound of builds and containers together (MiB), 0 when none.
        pids: Process bound, 0 when none.
        disk_gb: Size of the engine's data filesystem (GB), 0 when unbounded.
        absent: One line per bound that could not be set, saying why.
    """

    memory_mb: int = 0
    pids: int = 0
    disk_gb: float = 0
    absent: tuple[str, ...] = field(default_factory=tuple)

    def save(self, state: str | Path) -> None:
        """Write these bounds into the grading engine's state directory (read by the grader's children)."""
        Path(state).mkdir(parents=True, exist_ok=True)
        (Path(state) / BOUNDS_FILE).write_text(json.dumps(asdict(self)) + "\n")

    @classmethod
    def load(cls, state: str | Path) -> Bounds | None:
        """The bounds saved in ``state``, or None (no grading engine started there, or an unreadable file)."""
        try:
            raw = json.loads((Path(state) / BOUNDS_FILE).read_text())
            return cls(int(raw["memory_mb"]), int(raw["pids"]), float(raw["disk_gb"]), tuple(raw.get("absent", ())))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def summary(self) -> str:
        """One line: the bounds in force (for logs and ``env status``)."""
        parts = [
            f"memory {self.memory_mb} MiB" if self.memory_mb else "memory unbounded",
            f"{self.pids} processes" if self.pids else "processes unbounded",
            f"disk {self.disk_gb:g} GB" if self.disk_gb else "disk unbounded",
        ]
        return ", ".join(parts)


# What a failure that hit a bound prints. Build logs (BuildKit), Python, the shells, apt and pip, and the engine.
_DISK = re.compile(r"no space left on device|ENOSPC|\[Errno 28\]|disk quota exceeded", re.IGNORECASE)
_PIDS = re.compile(
    r"resource temporarily unavailable|cannot fork|can't fork|fork: retry|\[Errno 11\]|EAGAIN"
    r"|pthread_create failed|failed to create new OS thread|can't start new thread",
    re.IGNORECASE,
)
_MEMORY = re.compile(
    r"cannot allocate memory|out of memory|MemoryError|\[Errno 12\]|ENOMEM|OOMKilled|oom-kill"
    r"|exit code:? 137\b|exited with code 137\b|status 137\b",
    re.IGNORECASE,
)


def name_bound(text: str, bounds: Bounds | None, container_memory: str = "", container_pids: int = 0) -> str:
    """One sentence naming the bound a failure's text shows it hit, or "" when it shows none.

    Read in the order disk, processes, memory: a full disk or a failed fork can also end in a killed step,
    never the other way round.

    Args:
        text: The failure's words (build error with its log tail, or a container's error).
        bounds: The grading engine's bounds (None: not graded on the grading engine, so none of the kit's).
        container_memory: A container's own memory limit (``"256m"``), named first when the failure is a container's.
        container_pids: A container's own process limit, likewise.
    """
    if bounds is None or not text:
        return ""
    together = "for a submission's build steps and containers together"
    if _DISK.search(text):
        if not bounds.disk_gb:
            return ""
        return (
            f"It ran out of disk: the grading engine's disk bound is {bounds.disk_gb:g} GB for everything a "
            "submission builds (images, layers, build cache). Write less in your build."
        )
    if _PIDS.search(text):
        own = f"{container_pids} processes" if container_pids else ""
        limit = _limit(own, f"{bounds.pids} processes" if bounds.pids else "", together)
        return f"It could not start a process: the process bound is {limit}. Start fewer processes." if limit else ""
    if _MEMORY.search(text):
        limit = _limit(container_memory, f"{bounds.memory_mb} MiB" if bounds.memory_mb else "", together)
        return f"It ran out of memory (or was killed, exit code 137): the memory bound is {limit}." if limit else ""
    return ""


def _limit(own: str, shared: str, together: str) -> str:
    """``own`` per container with ``shared`` in brackets, or ``shared`` alone ("" when neither is set)."""
    if own:
        return f"{own} per container ({shared} {together})" if shared else f"{own} per container"
    return f"{shared} {together}" if shared else ""


def explain_failure(text: str, container_memory: str = "", container_pids: int = 0) -> str:
    """``text``, followed by the sentence naming the grading engine's bound it hit (if it hit one, and once).

    The bounds are the running grading engine's (:class:`Bounds` saved when it started); on a student's own
    engine there are none of the kit's, and ``text`` comes back unchanged.
    """
    engine = current_grading_engine()
    bounds = Bounds.load(engine.state) if engine else None
    said = name_bound(text, bounds, container_memory, container_pids)
    if not said or _BOUND_SAID.search(text):
        return text
    return f"{text.rstrip()}\n{said}"


#: A sentence of :func:`name_bound` (so a text that already names its bound is not told twice).
_BOUND_SAID = re.compile(r"the (?:grading engine's disk|process|memory) bound is ")
