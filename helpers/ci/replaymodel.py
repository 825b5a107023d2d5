"""The data of a workflow replay: the :class:`Plan` of jobs and steps and the :class:`Command` values they hold.

The reader (:mod:`helpers.ci.replayplan` for jobs, steps and ``uses:`` actions, :mod:`helpers.ci.replaylines` for
the lines of a ``run:`` script) makes them and the runner (:mod:`helpers.ci.replayrun`) runs them; they live apart
so that neither reader module needs the other's types, and so that a refusal (:class:`Refused`, which names the
part and the file's line) is raised the same way by both. :class:`Build` is the one reading of what a build
command builds (``docker build`` options or ``docker/build-push-action`` inputs): the runner builds it, and the
callers that ask which Dockerfile, context, tags or build arguments a workflow builds read the plan's
:attr:`Plan.builds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.ci.expressions import UNKNOWN, Context

__all__ = ["Build", "Command", "PlanStep", "PlanJob", "Plan", "WAIT", "Refused", "refuse", "unknown_expr", "pairs"]

#: The kind of a bounded health wait the kit performs in place of a student's loop.
WAIT = "wait"


@dataclass(frozen=True)
class Build:
    """What one build command builds, as the workflow wrote it (paths from the repository root, joined to the
    step's ``working-directory``); ``dockerfile`` None is the context's ``Dockerfile``."""

    context: str
    dockerfile: str | None = None
    tags: tuple[str, ...] = ()
    build_args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    push: bool = False
    line: int = 0

    def paths(self, root: Path) -> tuple[Path, Path]:
        """(Dockerfile, context) resolved against ``root``, the repository root (not checked: the caller decides)."""
        context = root / self.context
        return (root / self.dockerfile if self.dockerfile else context / "Dockerfile"), context


@dataclass(frozen=True)
class Command:
    """One operation of the replay: a docker command (``kind`` ``docker``), a wait, a sleep or an exit.

    ``joiner`` is the shell operator before it (``;``, ``&&`` or ``||``; a line ending in ``&&``/``||`` joins the
    next line's first command), ``negated`` says it was written ``! command`` and ``background`` that its list
    ended with ``&``: the runner follows them as ``bash -e`` would.
    """

    kind: str
    line: int
    text: str
    verb: str = ""
    flags: tuple[tuple[str, str], ...] = ()
    operands: tuple[str, ...] = ()
    joiner: str = ";"
    seconds: float = 0.0
    ends_step: bool = False
    negated: bool = False
    background: bool = False

    def flag(self, *names: str) -> str | None:
        """The last value of one of ``names`` ("" for a switch), or None when absent."""
        found = [v for f, v in self.flags if f in names]
        return found[-1] if found else None

    def values(self, *names: str) -> list[str]:
        """Every value given to one of ``names`` (repeated options)."""
        return [v for f, v in self.flags if f in names]

    def build(self) -> Build:
        """What a ``build`` command builds: its options read here, once, for the runner and every caller."""
        return Build(
            context=self.operands[0],
            dockerfile=self.flag("-f", "--file"),
            tags=tuple(self.values("-t", "--tag")),
            build_args=pairs(self.values("--build-arg")),
            labels=pairs(self.values("--label")),
            target=self.flag("--target"),
            push=self.flag("--push") is not None,
            line=self.line,
        )


@dataclass
class PlanStep:
    """One step: its condition (evaluated when the run gets there), its commands, and notes for the report."""

    job: str
    name: str
    line: int
    cond: Any
    commands: list[Command] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    continue_on_error: bool = False

    def where(self, line: int = 0) -> str:
        """``step 'NAME' (line N)`` for messages (N: the file's line)."""
        return f"step {self.name!r} (line {line or self.line})"


@dataclass
class PlanJob:
    name: str
    cond: Any
    needs: list[str]
    steps: list[PlanStep] = field(default_factory=list)


@dataclass
class Plan:
    """The jobs to replay, in order; refusals (each names a step, a line and the part) mean nothing runs."""

    jobs: list[PlanJob] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    context: Context | None = None

    @property
    def steps(self) -> list[PlanStep]:
        return [s for j in self.jobs for s in j.steps]

    @property
    def builds(self) -> list[Build]:
        """Every build the steps name, in file order (all jobs and steps, whatever their conditions)."""
        return [c.build() for s in self.steps for c in s.commands if c.kind == "docker" and c.verb == "build"]


class Refused(Exception):
    """A part of a step the replay does not run (the message names it; ``line`` is the file's line, 0 if unknown)."""

    line: int = 0


def refuse(message: str, line: int = 0) -> Refused:
    """A :class:`Refused` to raise, naming ``line`` of the file."""
    e = Refused(message)
    e.line = line
    return e


def unknown_expr(text: str) -> str:
    """The first expression the replay did not evaluate in ``text`` ("" when none)."""
    i = text.find(UNKNOWN)
    return text[i + len(UNKNOWN) :].split("\x00", 1)[0] if i >= 0 else ""


def pairs(items: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` items (``--build-arg``, ``--label``, ``-e``) as a mapping; a bare ``KEY`` maps to ""."""
    return dict(a.split("=", 1) if "=" in a else (a, "") for a in items)
