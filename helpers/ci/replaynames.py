"""The state of one workflow replay: its engine, its name maps (the student's names -> run-scoped objects), limits.

:class:`ReplayState` is the base of the replay's docker commands (:mod:`helpers.ci.replaycontainers`,
:mod:`helpers.ci.replayimages`, :mod:`helpers.ci.replayops`) and of its runner (:mod:`helpers.ci.replayrun`): it
holds what the run created, maps a name the workflow wrote to the object this run made for it (an image the
workflow did not build, or a container it did not start, fails the step as docker would), and names the time
bounds (:data:`LIMITS`) and the outcomes a command can raise (:class:`StepFailed`, :class:`StepDone`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.ci.pipelinereport import ReplayReport
from helpers.ci.replaymodel import Build, Command, PlanStep
from helpers.engine.client import kit_labels
from helpers.errors import CourseError

__all__ = ["ReplayState", "LIMITS", "LOG_LINES", "StepFailed", "StepDone", "Resolve", "norm_ref", "strip_host"]

#: Seconds each kind of command may take.
LIMITS = {"build": 600, "run": 180, "exec": 60, "stop": 15}
#: Lines of a container's log the replay keeps.
LOG_LINES = 500
#: A build as the workflow wrote it -> the (Dockerfile, context) paths to build (a CourseError refuses it).
Resolve = Callable[[Build], tuple[Path, Path]]


class StepFailed(CourseError):
    """A command of a step failed (the step fails with this message unless the shell goes on)."""


class StepDone(Exception):
    """``exit N`` (or a health wait inside a loop that exits 0): the step ends here, with ``code``."""

    def __init__(self, said: str, code: int = 0) -> None:
        super().__init__(said)
        self.code = code


class ReplayState:
    """One replay's engine, labels and names, and what it created."""

    def __init__(self, c: Any, resolve: Resolve, test_dockerfile: Path, report: ReplayReport) -> None:
        self.c, self.resolve, self.report = c, resolve, report
        self.rid = report.run_id
        self.test_dockerfile = test_dockerfile.resolve()
        self.labels = kit_labels("pipeline", **{"org.dockercourse.pipeline": self.rid, "org.dockercourse.replay": "1"})
        self.images: dict[str, str] = {}  # student ref (with tag) -> local run-scoped tag
        self.built_from: dict[str, Path] = {}  # local tag -> Dockerfile
        self.networks: dict[str, Any] = {}
        self.containers: dict[str, Any] = {}
        self.ran: dict[str, str] = {}  # container id -> the local tag of its image
        self.detached: list[str] = []  # the containers started with -d (what a health wait waits for)
        self.anonymous = 0
        self.step: PlanStep | None = None

    def image(self, ref: str) -> str:
        """The local tag of an image the workflow built or tagged (a step fails for any other image)."""
        key = norm_ref(ref)
        if key not in self.images:
            raise StepFailed(f"image {ref!r} was not built by this workflow (the grader runs only those)")
        return self.images[key]

    def local(self, ref: str) -> str:
        """The run-scoped tag for a ref the workflow names: ``course-kit/replay-<run>/<path>:<tag>``."""
        repo, tag = norm_ref(ref).rsplit(":", 1)
        return f"course-kit/replay-{self.rid}/{strip_host(repo)}:{tag}".lower()

    def container(self, name: str) -> Any:
        """The container this run started under ``name`` (a step fails for any other, as docker would)."""
        if name not in self.containers:
            raise StepFailed(f"No such container: {name}")
        return self.containers[name]

    def is_tests(self, local_tag: str) -> bool:
        """Whether an image of this run was built from the integration-test Dockerfile."""
        return self.built_from.get(local_tag) == self.test_dockerfile

    def where(self, cmd: Command) -> str:
        return self.step.where(cmd.line) if self.step else f"line {cmd.line}"


def norm_ref(ref: str) -> str:
    """``name`` -> ``name:latest``; a tag is kept (a registry port is not a tag)."""
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last else f"{ref}:latest"


def strip_host(repo: str) -> str:
    """``ghcr.io/acme/app`` -> ``acme/app``: the first part goes when it names a registry host."""
    first, _, rest = repo.partition("/")
    return rest if rest and ("." in first or ":" in first or first == "localhost") else repo
