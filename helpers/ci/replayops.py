"""The docker commands of a workflow replay: one ``do_<verb>`` method each, a docker SDK call through the kit.

:class:`ReplayOps` holds a replay's engine, its name maps (the student's names -> run-scoped objects) and what it
created; :mod:`helpers.ci.replayrun` subclasses it with the loop over jobs and steps and the tear-down. The
commands live here, apart from that loop, so that each module reads as one thing. A failed command raises
:class:`StepFailed`; each kind has a time bound (:data:`LIMITS`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.ci.pipeline import wait_healthy
from helpers.ci.pipelinereport import ReplayReport
from helpers.ci.replaymodel import Command, PlanStep
from helpers.engine.client import kit_labels
from helpers.engine.registry import local_registry
from helpers.errors import CourseError
from helpers.images.build import build
from helpers.images.health import log_tail

__all__ = ["ReplayOps", "LIMITS", "LOG_LINES", "StepFailed", "StepDone", "Resolve"]

#: Seconds each kind of command may take.
LIMITS = {"build": 600, "run": 180, "exec": 60, "stop": 15}
#: Lines of a container's log the replay keeps.
LOG_LINES = 500
Resolve = Callable[[str | None, str], tuple[Path, Path]]


class StepFailed(CourseError):
    """A command of a step failed (the step fails with this message)."""


class StepDone(Exception):
    """``exit 0`` (or a health wait inside a loop that exits 0): the step ends, successfully."""


class ReplayOps:
    """One replay's engine and names, and the docker commands it runs (``do_<verb>``, ``wait``)."""

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

    # --- names ---------------------------------------------------------------------------------------------

    def image(self, ref: str) -> str:
        """The local tag of an image the workflow built or tagged (a step fails for any other image)."""
        key = _norm(ref)
        if key not in self.images:
            raise StepFailed(f"image {ref!r} was not built by this workflow (the grader runs only those)")
        return self.images[key]

    def local(self, ref: str) -> str:
        repo, tag = _norm(ref).rsplit(":", 1)
        return f"course-kit/replay-{self.rid}/{_strip_host(repo)}:{tag}".lower()

    def container(self, name: str) -> Any:
        if name not in self.containers:
            raise StepFailed(f"No such container: {name}")
        return self.containers[name]

    # --- docker commands -----------------------------------------------------------------------------------

    def do_build(self, cmd: Command) -> str:
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
            raise StepFailed(f"network with name {name} already exists")
        self.networks[name] = self.c.networks.create(
            f"r{self.rid}-{name}"[:60], driver="bridge", internal=True, labels=self.labels
        )
        return f"network {name} created"

    def do_network_rm(self, cmd: Command) -> str:
        for name in cmd.operands:
            if name not in self.networks:
                raise StepFailed(f"network {name} not found")
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
            raise StepFailed(f'Conflict. The container name "/{name}" is already in use')
        net_name = cmd.flag("--network", "--net")
        if net_name is not None and net_name not in self.networks:
            raise StepFailed(f"network {net_name} not found (the workflow did not create it)")
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
        try:
            code = ct.wait(timeout=LIMITS["run"])["StatusCode"]
        except Exception as e:  # requests' ReadTimeout
            raise StepFailed(f"{cmd.operands[0]} ran past {LIMITS['run']} s") from e
        out = log_tail(ct, LOG_LINES)
        tests = self.built_from.get(self.image(cmd.operands[0])) == self.test_dockerfile
        if tests:
            self.report.tests_ran, self.report.tests_ok = True, code == 0
            self.report.test_log = out
        if cmd.flag("--rm") is not None:
            ct.remove(force=True)
            self.containers.pop(name, None)
        if code != 0:
            last = next((ln for ln in reversed(out.splitlines()) if ln.strip()), "")
            raise StepFailed(f"{cmd.operands[0]} exited with {code}: {last[:150]}")
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
            raise StepFailed(f"docker exec ran past {LIMITS['exec']} s")
        code, output = result[0]
        if code != 0:
            raise StepFailed(f"docker exec exited with {code}: {(output or b'')[-150:].decode(errors='replace')}")
        return f"exec in {cmd.operands[0]}: exit 0"

    def do_logs(self, cmd: Command) -> str:
        for name in cmd.operands:
            ct = self.container(name)
            text = log_tail(ct, LOG_LINES)
            if self.built_from.get(self.ran.get(ct.id, "")) != self.test_dockerfile:
                self.report.app_log = text
        return f"logs of {' '.join(cmd.operands)} read"

    def do_inspect(self, cmd: Command) -> str:
        for name in cmd.operands:
            if name not in self.containers and _norm(name) not in self.images and name not in self.networks:
                raise StepFailed(f"No such object: {name}")
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
                raise StepFailed(f"docker rm {name}: {e.explanation or e}") from e
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
            raise StepFailed(f"push to {reg.address} failed: {errors[0]}")
        self.report.pushed = f"{target}:{tag}"
        return f"pushed {ref} to the grader's registry as {target}:{tag}"

    def do_login(self, cmd: Command) -> str:
        return "logged in to the grader's registry (its own credentials)"

    def do_logout(self, cmd: Command) -> str:
        return ""

    def wait(self, cmd: Command) -> str:
        """The kit's bounded health wait for the containers a loop named (all started ones when it named none)."""
        names = list(cmd.operands) or [n for n in self.detached if n in self.containers]
        if not names:
            raise StepFailed("no container is running to wait for")
        for name in names:
            wait_healthy(self.container(name), cmd.seconds)
        said = f"waited for health of {', '.join(names)} ({self.where(cmd)})"
        self.report.notes.append(said)
        if cmd.ends_step:
            raise StepDone(said)
        return said

    def where(self, cmd: Command) -> str:
        return self.step.where(cmd.line) if self.step else f"line {cmd.line}"


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
    raise StepFailed(f"invalid duration {value!r}")


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
