"""What a pipeline run reports: one :class:`Stage` per step and the :class:`PipelineReport` around them.

:class:`ReplayReport` is the report of a replayed workflow (:mod:`helpers.ci.replayrun`): the same stages plus
what the grader reads (refusals, the integration tests' outcome, what the workflow left behind).

Kept apart from :mod:`helpers.ci.pipeline` (which runs the stages) so that graders and tests
can read and build reports without the engine-facing code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Stage", "PipelineReport", "ReplayReport"]


@dataclass
class Stage:
    """One stage of the pipeline."""

    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class PipelineReport:
    """What :func:`run_pipeline` did."""

    stages: list[Stage] = field(default_factory=list)
    app_log: str = ""
    test_log: str = ""
    image: str = ""
    pushed: str = ""
    run_id: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.stages) and all(s.ok for s in self.stages)

    @property
    def exit_code(self) -> int:
        """0 when every stage passed, 1 otherwise (what a CI runner reports)."""
        return 0 if self.ok else 1

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([s.__dict__ for s in self.stages], columns=["name", "ok", "seconds", "detail"])

    def text(self) -> str:
        """A readable report: one line per stage, the test summary, the exit status."""
        lines = [f"{'ok  ' if s.ok else 'FAIL'}  {s.name:<18} {s.seconds:6.1f} s  {s.detail}" for s in self.stages]
        summary = [ln for ln in self.test_log.splitlines() if " passed" in ln or " failed" in ln or "error" in ln]
        if summary:
            lines.append("tests: " + summary[-1].strip("= "))
        lines.append(f"exit status {self.exit_code}: " + ("pipeline passed" if self.ok else "pipeline FAILED"))
        return "\n".join(lines)


@dataclass
class ReplayReport(PipelineReport):
    """A :class:`PipelineReport` (one stage per step) plus what the grader reads from a replay."""

    left_behind: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    tests_ran: bool = False
    tests_ok: bool = False
    sha: str = ""
