"""The container commands of a workflow replay: ``docker run``/``exec``/``logs``/``stop``/``rm`` and the health wait.

Each is a docker SDK call through the kit on :class:`~helpers.ci.replaynames.ReplayState`'s names: a container
runs only an image the workflow built, under ``r<run>-<name>`` with the kit's labels, on a network the workflow
created (a container keeps its name as a network alias there) or on none; a foreground container and an
``exec`` are bounded by :data:`~helpers.ci.replaynames.LIMITS`. The ``--health-*`` options of ``docker run``
become the container's health check; a student's wait loop becomes the kit's bounded :meth:`ContainerOps.wait`.
"""

from __future__ import annotations

import threading
from typing import Any

from helpers.ci.pipeline import wait_healthy
from helpers.ci.replaymodel import Command, pairs
from helpers.ci.replaynames import LIMITS, LOG_LINES, ReplayState, StepDone, StepFailed
from helpers.images.health import log_tail

__all__ = ["ContainerOps"]


class ContainerOps(ReplayState):
    """``do_run``, ``do_exec``, ``do_logs``, ``do_stop``, ``do_rm`` and ``wait`` of a replay."""

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
        ct = self.c.containers.create(
            image,
            list(cmd.operands[1:]) or None,
            name=f"r{self.rid}-{name}"[:60],
            labels=self.labels,
            environment=pairs(cmd.values("-e", "--env")),
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
        tests = self.is_tests(self.image(cmd.operands[0]))
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
        env = pairs(cmd.values("-e", "--env"))
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
            if not self.is_tests(self.ran.get(ct.id, "")):
                self.report.app_log = text
        return f"logs of {' '.join(cmd.operands)} read"

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
    """The health check ``docker run --health-*`` asks for (``--no-healthcheck``: none; no option: the image's)."""
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
