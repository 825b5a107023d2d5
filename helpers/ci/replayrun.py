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
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.ci.expressions import condition
from helpers.ci.pipelinereport import PipelineReport, Stage
from helpers.ci.replayplan import WAIT, Command, Plan, PlanStep
from helpers.engine.client import get_client, kit_labels
from helpers.errors import CourseError

__all__ = ["ReplayReport", "replay", "LIMITS"]

#: Seconds each kind of command may take.
LIMITS = {"build": 600, "run": 180, "exec": 60, "stop": 15}
_LOG_LINES = 500
Resolve = Callable[[str | None, str], tuple[Path, Path]]


@dataclass
class ReplayReport(PipelineReport):
    """A :class:`PipelineReport` (one stage per step) plus what the grader reads from a replay."""

    left_behind: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    tests_ran: bool = False
    tests_ok: bool = False
    sha: str = ""


class _StepFailed(CourseError):
    """A command of a step failed (the step fails with this message)."""


class _StepDone(Exception):
    """``exit 0`` (or a health wait inside a loop that exits 0): the step ends, successfully."""


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
        resolve_build: (Dockerfile as written or None, context as written) -> the paths to build; raises a
            CourseError for a build the caller refuses.
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


class _Replay:
    """One replay: the engine, the name maps (student name -> run-scoped object), what was created."""

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
        """Run a step's commands with the shell's ``&&``/``||``/``;`` rules and ``bash -e`` (a failure ends it)."""
        self.step = step
        from docker.errors import DockerException

        last_ok, said = True, []
        try:
            for cmd in step.commands:
                if (cmd.joiner == "&&" and not last_ok) or (cmd.joiner == "||" and last_ok):
                    continue
                if cmd.joiner == ";" and not last_ok:
                    break
                try:
                    said.append(self.command(cmd))
                    last_ok = True
                except _StepFailed as e:
                    said.append(f"line {cmd.line}: {e.message}")
                    last_ok = False
                except CourseError as e:
                    said.append(f"line {cmd.line}: {e.message.splitlines()[0]}")
                    last_ok = False
                except DockerException as e:  # what the engine answered, as the docker CLI would print it
                    said.append(f"line {cmd.line}: {getattr(e, 'explanation', None) or e}"[:300])
                    last_ok = False
        except _StepDone as e:
            said.append(str(e))
            last_ok = True
        said = [s for s in said if s]
        if not last_ok:
            return False, next((s for s in reversed(said) if s.startswith("line ")), "failed")
        return True, "; ".join(said) or ("nothing to run" if not step.notes else step.notes[0])

    def command(self, cmd: Command) -> str:
        if cmd.kind == "noop":
            return ""
        if cmd.kind == "sleep":
            time.sleep(cmd.seconds)
            return f"slept {cmd.seconds:.0f} s"
        if cmd.kind == "exit":
            if cmd.seconds:
                raise _StepFailed(f"exit {cmd.seconds:.0f}")
            raise _StepDone("exit 0")
        if cmd.kind == WAIT:
            return self.wait(cmd)
        return getattr(self, "do_" + cmd.verb.replace("-", "_"))(cmd)

    # --- names ---------------------------------------------------------------------------------------------

    def image(self, ref: str) -> str:
        """The local tag of an image the workflow built or tagged (a step fails for any other image)."""
        key = _norm(ref)
        if key not in self.images:
            raise _StepFailed(f"image {ref!r} was not built by this workflow (the grader runs only those)")
        return self.images[key]

    def local(self, ref: str) -> str:
        repo, tag = _norm(ref).rsplit(":", 1)
        return f"course-kit/replay-{self.rid}/{_strip_host(repo)}:{tag}".lower()

    def container(self, name: str) -> Any:
        if name not in self.containers:
            raise _StepFailed(f"No such container: {name}")
        return self.containers[name]

    # --- docker commands -----------------------------------------------------------------------------------

    def do_build(self, cmd: Command) -> str:
        from helpers.images.build import build

        dockerfile, context = self.resolve(cmd.flag("-f", "--file"), cmd.operands[0])
        refs = cmd.values("-t", "--tag") or [f"anonymous-{len(self.images)}"]
        tags = [self.local(r) for r in refs]
        args = dict(a.split("=", 1) if "=" in a else (a, "") for a in cmd.values("--build-arg"))
        labels = dict(a.split("=", 1) if "=" in a else (a, "") for a in cmd.values("--label"))
        r = build(
            context,
            dockerfile=dockerfile,
            tags=tags,
            build_args=args,
            target=cmd.flag("--target"),
            labels={**labels, **self.labels},
            timeout=LIMITS["build"],
            client=self.c,
        )
        for ref, tag in zip(refs, tags):
            self.images[_norm(ref)] = tag
            self.built_from[tag] = dockerfile.resolve()
        said = f"built {', '.join(refs)} ({r.cache_hits}/{len(r.steps)} steps cached)"
        if cmd.flag("--push") is not None:
            said += "; " + "; ".join(self.push(ref) for ref in refs)
        return said

    def do_network_create(self, cmd: Command) -> str:
        name = cmd.operands[0]
        if name in self.networks:
            raise _StepFailed(f"network with name {name} already exists")
        self.networks[name] = self.c.networks.create(
            f"r{self.rid}-{name}"[:60], driver="bridge", internal=True, labels=self.labels
        )
        return f"network {name} created"

    def do_network_rm(self, cmd: Command) -> str:
        for name in cmd.operands:
            if name not in self.networks:
                raise _StepFailed(f"network {name} not found")
            self.networks[name].remove()
            del self.networks[name]
        return f"network {' '.join(cmd.operands)} removed"

    def do_run(self, cmd: Command) -> str:
        image = self.image(cmd.operands[0])
        name = cmd.flag("--name")
        if not name:
            self.anonymous += 1
            name = f"anonymous-{self.anonymous}"
        if name in self.containers:
            raise _StepFailed(f'Conflict. The container name "/{name}" is already in use')
        net_name = cmd.flag("--network", "--net")
        if net_name is not None and net_name not in self.networks:
            raise _StepFailed(f"network {net_name} not found (the workflow did not create it)")
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in cmd.values("-e", "--env"))
        ct = self.c.containers.create(
            image,
            list(cmd.operands[1:]) or None,
            name=f"r{self.rid}-{name}"[:60],
            labels=self.labels,
            environment=env,
            healthcheck=_healthcheck(cmd),
            init=cmd.flag("--init") is not None,
            **({"network": self.networks[net_name].name} if net_name else {"network_mode": "none"}),
        )
        self.containers[name] = ct
        self.ran[ct.id] = image
        if cmd.flag("-d", "--detach") is not None:
            self.detached.append(name)
        if net_name:
            net = self.networks[net_name]
            net.disconnect(ct)
            net.connect(ct, aliases=[name, *cmd.values("--network-alias")])
        ct.start()
        if cmd.flag("-p", "--publish") is not None:
            self.report.notes.append(f"{self.where(cmd)}: -p is not published on the grader's host")
        if cmd.flag("-d", "--detach") is not None:
            return f"started {name} ({cmd.operands[0]})" + (f" on {net_name}" if net_name else "")
        return self.attached(cmd, name, ct)

    def attached(self, cmd: Command, name: str, ct: Any) -> str:
        """Wait for a foreground container (bounded), keep its output; the integration tests' is the test log."""
        from helpers.images.health import log_tail

        try:
            code = ct.wait(timeout=LIMITS["run"])["StatusCode"]
        except Exception as e:  # requests' ReadTimeout
            raise _StepFailed(f"{cmd.operands[0]} ran past {LIMITS['run']} s") from e
        out = log_tail(ct, _LOG_LINES)
        tests = self.built_from.get(self.image(cmd.operands[0])) == self.test_dockerfile
        if tests:
            self.report.tests_ran, self.report.tests_ok = True, code == 0
            self.report.test_log = out
        if cmd.flag("--rm") is not None:
            ct.remove(force=True)
            self.containers.pop(name, None)
        if code != 0:
            last = next((ln for ln in reversed(out.splitlines()) if ln.strip()), "")
            raise _StepFailed(f"{cmd.operands[0]} exited with {code}: {last[:150]}")
        return f"{cmd.operands[0]} exited 0" + (" (the integration tests)" if tests else "")

    def do_exec(self, cmd: Command) -> str:
        ct = self.container(cmd.operands[0])
        result: list[Any] = []
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in cmd.values("-e", "--env"))
        worker = threading.Thread(
            target=lambda: result.append(ct.exec_run(list(cmd.operands[1:]), environment=env)), daemon=True
        )
        worker.start()
        worker.join(LIMITS["exec"])
        if not result:
            raise _StepFailed(f"docker exec ran past {LIMITS['exec']} s")
        code, output = result[0]
        if code != 0:
            raise _StepFailed(f"docker exec exited with {code}: {(output or b'')[-150:].decode(errors='replace')}")
        return f"exec in {cmd.operands[0]}: exit 0"

    def do_logs(self, cmd: Command) -> str:
        from helpers.images.health import log_tail

        for name in cmd.operands:
            ct = self.container(name)
            text = log_tail(ct, _LOG_LINES)
            if self.built_from.get(self.ran.get(ct.id, "")) != self.test_dockerfile:
                self.report.app_log = text
        return f"logs of {' '.join(cmd.operands)} read"

    def do_inspect(self, cmd: Command) -> str:
        for name in cmd.operands:
            if name not in self.containers and _norm(name) not in self.images and name not in self.networks:
                raise _StepFailed(f"No such object: {name}")
        return f"inspected {' '.join(cmd.operands)}"

    def do_ps(self, cmd: Command) -> str:
        return f"{len(self.containers)} containers"

    def do_image_ls(self, cmd: Command) -> str:
        return f"{len(self.images)} images"

    def do_network_ls(self, cmd: Command) -> str:
        return f"{len(self.networks)} networks"

    def do_stop(self, cmd: Command) -> str:
        for name in cmd.operands:
            self.container(name).stop(timeout=min(int(cmd.flag("-t", "--time") or 10), LIMITS["stop"]))
        return f"stopped {' '.join(cmd.operands)}"

    def do_rm(self, cmd: Command) -> str:
        from docker.errors import APIError

        for name in cmd.operands:
            try:
                self.container(name).remove(force=cmd.flag("-f", "--force") is not None)
            except APIError as e:
                raise _StepFailed(f"docker rm {name}: {e.explanation or e}") from e
            self.containers.pop(name)
        return f"removed {' '.join(cmd.operands)}"

    def do_rmi(self, cmd: Command) -> str:
        for ref in cmd.operands:
            self.c.images.remove(self.image(ref), force=cmd.flag("-f", "--force") is not None)
            self.images.pop(_norm(ref))
        return f"removed {' '.join(cmd.operands)}"

    def do_tag(self, cmd: Command) -> str:
        src, dst = cmd.operands
        repo, tag = self.local(dst).rsplit(":", 1)
        self.c.images.get(self.image(src)).tag(repo, tag)
        self.images[_norm(dst)] = self.local(dst)
        self.built_from[self.local(dst)] = self.built_from.get(self.image(src), Path())
        return f"tagged {dst}"

    def do_push(self, cmd: Command) -> str:
        return self.push(cmd.operands[0])

    def push(self, ref: str) -> str:
        """Push an image the workflow built to the grader's registry (kit credentials), as REGISTRY/<path>:<tag>."""
        from helpers.engine.registry import local_registry

        reg = local_registry()
        repo, tag = _norm(ref).rsplit(":", 1)
        target = f"{reg.address}/{_strip_host(repo)}".lower()
        self.c.images.get(self.image(ref)).tag(target, tag)
        try:
            out = self.c.images.push(target, tag=tag, auth_config=reg.auth_config(), stream=True, decode=True)
            errors = [x["error"] for x in out if "error" in x]
        finally:
            self.c.images.remove(f"{target}:{tag}")
        if errors:
            raise _StepFailed(f"push to {reg.address} failed: {errors[0]}")
        self.report.pushed = f"{target}:{tag}"
        return f"pushed {ref} to the grader's registry as {target}:{tag}"

    def do_login(self, cmd: Command) -> str:
        return "logged in to the grader's registry (its own credentials)"

    def do_logout(self, cmd: Command) -> str:
        return ""

    def wait(self, cmd: Command) -> str:
        """The kit's bounded health wait for the containers a loop named (all started ones when it named none)."""
        from helpers.ci.pipeline import wait_healthy

        names = list(cmd.operands) or [n for n in self.detached if n in self.containers]
        if not names:
            raise _StepFailed("no container is running to wait for")
        for name in names:
            wait_healthy(self.container(name), cmd.seconds)
        said = f"waited for health of {', '.join(names)} ({self.where(cmd)})"
        self.report.notes.append(said)
        if cmd.ends_step:
            raise _StepDone(said)
        return said

    def where(self, cmd: Command) -> str:
        return self.step.where(cmd.line) if self.step else f"line {cmd.line}"

    # --- tear down -----------------------------------------------------------------------------------------

    def teardown(self) -> None:
        """Remove every container, network and image tag of this run; record what the workflow had left."""
        from docker.errors import APIError, NotFound

        from helpers.images.health import log_tail

        t0 = time.monotonic()
        label = {"label": f"org.dockercourse.pipeline={self.rid}"}
        names = {ct.id: n for n, ct in self.containers.items()}
        removed = []
        for ct in self.c.containers.list(all=True, filters=label):
            name = names.get(ct.id, ct.name)
            self.report.left_behind.append(name)
            if not self.report.app_log and self.built_from.get(self.ran.get(ct.id, "")) != self.test_dockerfile:
                self.report.app_log = log_tail(ct, _LOG_LINES)
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


def _why(step: PlanStep, failed: bool) -> str:
    return "an earlier step failed" if failed and not step.cond else f"`if: {step.cond}` is false"


def _norm(ref: str) -> str:
    """``name`` -> ``name:latest``; a tag is kept (a registry port is not a tag)."""
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last else f"{ref}:latest"


def _strip_host(repo: str) -> str:
    """``ghcr.io/acme/app`` -> ``acme/app``: the first part goes when it names a registry host."""
    first, _, rest = repo.partition("/")
    return rest if rest and ("." in first or ":" in first or first == "localhost") else repo


def _duration(value: str | None) -> int | None:
    """``2s``/``1m``/``500ms`` -> nanoseconds (None when absent)."""
    if not value:
        return None
    units = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
    for unit in ("ms", "s", "m", "h"):
        if value.endswith(unit) and value[: -len(unit)].replace(".", "", 1).isdigit():
            return int(float(value[: -len(unit)]) * units[unit])
    raise _StepFailed(f"invalid duration {value!r}")


def _healthcheck(cmd: Command) -> dict[str, Any] | None:
    if cmd.flag("--no-healthcheck") is not None:
        return {"test": ["NONE"]}
    test = cmd.flag("--health-cmd")
    if test is None:
        return None
    check: dict[str, Any] = {"test": ["CMD-SHELL", test]}
    for flag, key in (("--health-interval", "interval"), ("--health-timeout", "timeout")):
        check |= {key: _duration(cmd.flag(flag))} if cmd.flag(flag) else {}
    if cmd.flag("--health-start-period"):
        check["start_period"] = _duration(cmd.flag("--health-start-period"))
    if cmd.flag("--health-retries"):
        check["retries"] = int(cmd.flag("--health-retries") or 3)
    return check
