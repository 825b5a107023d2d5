"""Replay a workflow's steps (read by :mod:`helpers.ci.replayplan`) on the engine, through the kit, never a shell.

Each :class:`~helpers.ci.replayplan.Command` becomes a docker SDK call the kit makes: the student's names are
mapped to run-scoped ones (``r<run>-<name>`` for containers and networks, ``course-kit/replay-<run>/<ref>``
for images; a container keeps its name as a network alias, so ``http://app:8000`` still reaches it), everything
created carries the kit's labels and ``org.dockercourse.pipeline=<run>``, networks are internal (no way out),
a container without ``--network`` gets none, and only images the workflow built may run. Builds go through
``resolve_build`` (the caller decides which Dockerfiles and contexts it builds); pushes go to the grader's local
registry with the kit's credentials (``ghcr.io/OWNER/app:TAG`` is pushed as ``REGISTRY/OWNER/app:TAG``).
Each command has a time bound (:data:`LIMITS`), outputs are read within a size cap, and everything the run
created is removed at the end, whatever the student's tear-down did (what it had left is in ``left_behind``).

This module owns the order: jobs and their ``needs:``, ``if:`` conditions, the shell's ``&&``/``||``/``;``/``!``
rules within a step under ``bash -e`` (:func:`run_script`), ``continue-on-error`` and the tear-down. Each docker
command is :mod:`helpers.ci.replayops`'s, the name maps and the limits :mod:`helpers.ci.replaynames`';
:class:`ReplayReport` is :mod:`helpers.ci.pipelinereport`'s (re-exported here).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from helpers.ci.expressions import condition
from helpers.ci.pipelinereport import ReplayReport, Stage
from helpers.ci.replaymodel import WAIT, Command, Plan, PlanStep
from helpers.ci.replayops import LIMITS, LOG_LINES, ReplayOps, Resolve, StepDone, StepFailed
from helpers.engine.client import get_client
from helpers.errors import CourseError
from helpers.images.health import log_tail

__all__ = ["ReplayReport", "replay", "run_script", "LIMITS"]


def replay(
    plan: Plan,
    resolve_build: Resolve,
    test_dockerfile: Path,
    client: Any = None,
    log: Callable[[str], None] | None = None,
) -> ReplayReport:
    """Run the plan's jobs and steps in order on the engine; always tear down what it created.

    Args:
        plan: What :func:`helpers.ci.replayplan.read_plan` read (its refusals: nothing runs).
        resolve_build: A :class:`~helpers.ci.replaymodel.Build` as the workflow wrote it -> the (Dockerfile,
            context) paths to build; raises a CourseError for a build the caller refuses.
        test_dockerfile: The integration-test image's Dockerfile: a ``docker run`` of an image built from it is
            the test step (its log is ``test_log``).
        client: docker-py client.
        log: Called with one line per step.

    Returns:
        A :class:`ReplayReport`; failures are recorded there, not raised.
    """
    sha = plan.context.github["sha"] if plan.context else ""
    run = _Replay(
        get_client(client), resolve_build, test_dockerfile, ReplayReport(sha=sha, run_id=uuid.uuid4().hex[:8])
    )
    report = run.report
    if plan.refusals:
        report.refused = list(plan.refusals)
        report.stages.append(Stage("read the workflow", False, 0.0, "refused: " + plan.refusals[0]))
        return report
    report.notes += [f"{s.where()}: {n}" for s in plan.steps for n in s.notes]
    try:
        run.jobs(plan, log)
    finally:
        run.teardown()
    return report


class _Replay(ReplayOps):
    """One replay: its jobs and steps in order (each command through :class:`ReplayOps`), then the tear-down."""

    # --- jobs and steps ------------------------------------------------------------------------------------

    def jobs(self, plan: Plan, log: Callable[[str], None] | None) -> None:
        assert plan.context is not None
        ctx = plan.context
        outcome: dict[str, bool] = {}
        for job in plan.jobs:
            ctx.failed = any(not outcome.get(n, False) for n in job.needs)
            if not condition(job.cond, ctx):  # a skipped job: the jobs that need it are skipped too
                outcome[job.name] = False
                self.report.stages.append(Stage(f"job {job.name}", True, 0.0, f"skipped: `if: {job.cond}` is false"))
                continue
            ctx.failed = False
            for step in job.steps:
                if not condition(step.cond, ctx):
                    self.report.stages.append(Stage(step.name, True, 0.0, "skipped: " + _why(step, ctx.failed)))
                    continue
                t0 = time.monotonic()
                ok, detail = self.run_step(step)
                if not ok and step.continue_on_error:
                    ok, detail = True, f"failed, and `continue-on-error: true` goes on: {detail}"
                ctx.failed = ctx.failed or not ok
                self.report.stages.append(Stage(step.name, ok, time.monotonic() - t0, detail[:300]))
                if log:
                    log(f"{'ok  ' if ok else 'FAIL'} {step.name}: {detail[:200]}")
            outcome[job.name] = not ctx.failed

    def run_step(self, step: PlanStep) -> tuple[bool, str]:
        """Run a step's commands as GitHub's ``bash -e {0}`` would (:func:`run_script`): its outcome and its words."""
        self.step = step
        said: list[str] = []
        try:
            ok = run_script(step.commands, lambda cmd: self.attempt(cmd, said))
        except StepDone as e:  # exit N, or a wait loop that exits 0
            said.append(str(e))
            ok = e.code == 0
        said = [s for s in said if s]
        if not ok:
            last = f"line {step.commands[-1].line}: the script ends with status 1" if step.commands else "failed"
            return False, next((s for s in reversed(said) if s.startswith("line ")), last)
        return True, "; ".join(said) or ("nothing to run" if not step.notes else step.notes[0])

    def attempt(self, cmd: Command, said: list[str]) -> bool:
        """Run one command; whether it succeeded (what it said, or why it failed, goes to ``said``)."""
        from docker.errors import DockerException

        try:
            said.append(self.command(cmd))
            return True
        except StepFailed as e:
            said.append(f"line {cmd.line}: {e.message}")
        except CourseError as e:
            said.append(f"line {cmd.line}: {e.message.splitlines()[0]}")
        except DockerException as e:  # what the engine answered, as the docker CLI would print it
            said.append(f"line {cmd.line}: {getattr(e, 'explanation', None) or e}"[:300])
        return False

    def command(self, cmd: Command) -> str:
        if cmd.kind == "noop" or (cmd.kind == "exit" and cmd.background):  # `exit &` ends only its subshell
            return ""
        if cmd.kind == "sleep":
            time.sleep(cmd.seconds)
            return f"slept {cmd.seconds:.0f} s"
        if cmd.kind == "exit":
            code = int(cmd.seconds) % 256  # as bash: `exit 256` is 0
            raise StepDone(f"line {cmd.line}: exit {code}" if code else "exit 0", code)
        if cmd.kind == WAIT:
            return self.wait(cmd)
        return getattr(self, "do_" + cmd.verb.replace("-", "_"))(cmd)

    # --- tear down -----------------------------------------------------------------------------------------

    def teardown(self) -> None:
        """Remove every container, network and image tag of this run; record what the workflow had left."""
        from docker.errors import APIError, NotFound

        t0 = time.monotonic()
        label = {"label": f"org.dockercourse.pipeline={self.rid}"}
        names = {ct.id: n for n, ct in self.containers.items()}
        removed = []
        for ct in self.c.containers.list(all=True, filters=label):
            name = names.get(ct.id, ct.name)
            self.report.left_behind.append(name)
            if not self.report.app_log and not self.is_tests(self.ran.get(ct.id, "")):
                self.report.app_log = log_tail(ct, LOG_LINES)
            try:
                ct.remove(force=True)
                removed.append(name)
            except (NotFound, APIError):
                pass
        for net in self.c.networks.list(filters=label):
            try:
                net.remove()
                removed.append(net.name)
            except (NotFound, APIError):
                pass
        for tag in {*self.images.values(), *self.built_from}:
            try:
                self.c.images.remove(tag)
                removed.append(tag.rsplit("/", 1)[-1])
            except (NotFound, APIError):
                pass
        detail = f"removed {', '.join(removed) or 'nothing'}"
        if self.report.left_behind:
            detail += f"; the workflow had left {', '.join(self.report.left_behind)}"
        self.report.stages.append(Stage("tear down (kit)", True, time.monotonic() - t0, detail[:300]))


def run_script(commands: Sequence[Command], attempt: Callable[[Command], bool]) -> bool:
    """Run a step's commands the way ``bash -e`` runs a script; whether it ends with status 0.

    ``attempt`` runs one command and says whether it succeeded. An and-or list (``a && b || c``) is read left to
    right: a command after ``&&`` runs only when the status so far is 0, after ``||`` only when it is not, and a
    skipped command leaves the status as it was. ``set -e`` (bash's manual) ends the script at a failed command
    unless it is followed by ``&&``/``||`` in its list (a failing ``a`` of ``a && b`` goes on; a failing ``b``, or
    a failing plain command, ends the step), unless it is negated (``! a``: the status is inverted, and never ends
    the script), and unless its list runs in the background (``a &``: status 0). The script's status is its last
    list's: a failed ``a && b`` that is the last list fails the step. ``exit N`` ends it anywhere (:class:`StepDone`).
    """
    ok = True
    for i, cmd in enumerate(commands):
        if (cmd.joiner == "&&" and not ok) or (cmd.joiner == "||" and ok):
            continue
        done = attempt(cmd)
        ok = done != cmd.negated
        if i + 1 < len(commands) and commands[i + 1].joiner in ("&&", "||"):
            continue  # not the last command of its list: -e does not look at it
        if cmd.background:
            ok = True
        elif not done and not cmd.negated:
            return False
    return ok


def _why(step: PlanStep, failed: bool) -> str:
    return "an earlier step failed" if failed and not step.cond else f"`if: {step.cond}` is false"
