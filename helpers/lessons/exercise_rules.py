"""What each exercise of lessons 04 and 05 must leave on the engine, judged from ``docker inspect`` data.

Pure functions: they take what :mod:`helpers.lessons.exercises` read from the engine (inspect dicts,
history lines, counts) and return a :class:`Verdict`: one phrase of what was seen and the list of what
is still missing (empty: the exercise is done). No engine, no printing: the unit tests feed them dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from helpers.engine.client import LABEL

__all__ = [
    "Verdict",
    "labelled",
    "stop_seconds",
    "judge_init",
    "judge_network",
    "judge_logs",
    "judge_test_stage",
    "judge_locked",
    "MAX_STOP_SECONDS",
]

#: A graceful ``docker stop`` (SIGTERM handled or forwarded) takes well under this; a killed one takes the timeout.
MAX_STOP_SECONDS = 2.0
#: What the exercises ask students to add, so the clean-up cell may remove their containers.
LABEL_FLAG = f"--label {LABEL}=true"
_TEST_RUNNERS = ("pytest", "unittest")
_ROOT_USERS = ("", "root", "0", "0:0", "root:root")
#: History lines of these instructions run nothing (BuildKit writes them without "#(nop)").
_METADATA = {"COPY", "ADD", "LABEL", "ENV", "ARG", "WORKDIR", "USER", "CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK"}


@dataclass
class Verdict:
    """What a check saw, and what is still missing (nothing: done)."""

    saw: str
    missing: list[str] = field(default_factory=list)


def labelled(labels: Mapping[str, str] | None) -> bool:
    """True when the resource carries the kit's label (``org.dockercourse.kit=true``)."""
    return (labels or {}).get(LABEL) == "true"


def _label_missing(what: str, labels: Mapping[str, str] | None) -> list[str]:
    return [] if labelled(labels) else [f"{what} without `{LABEL_FLAG}`"]


def stop_seconds(events: Iterable[Mapping[str, Any]]) -> float | None:
    """Seconds from the last ``SIGTERM`` (``kill`` event, signal 15) to the ``die`` that followed, or None.

    ``events`` are the engine's container events (``docker events``), oldest first, each with
    ``Action``, ``timeNano`` and ``Actor.Attributes``.
    """
    term: int | None = None
    seconds: float | None = None
    for e in events:
        action = e.get("Action") or e.get("status")
        if action == "start":
            term = None
        elif action == "kill" and (e.get("Actor") or {}).get("Attributes", {}).get("signal") == "15":
            term = int(e.get("timeNano", 0))
        elif action == "die" and term is not None:
            seconds, term = (int(e.get("timeNano", 0)) - term) / 1e9, None
    return seconds


def judge_init(name: str, attrs: Mapping[str, Any] | None, seconds: float | None) -> Verdict:
    """Exercise ex04-init: started with ``--init``, then stopped by ``docker stop`` in under 2 s.

    Args:
        name: The container's name.
        attrs: ``docker inspect`` of the container (None: there is none).
        seconds: What :func:`stop_seconds` measured from the engine's events (None: no stop seen).
    """
    if attrs is None:
        return Verdict(f"no container named {name}", [f"a container named {name} (docker run --name {name} ...)"])
    state, init = attrs.get("State") or {}, bool((attrs.get("HostConfig") or {}).get("Init"))
    missing = [] if init else ["`--init` (HostConfig.Init is false: your program is PID 1)"]
    missing += _label_missing(name, (attrs.get("Config") or {}).get("Labels"))
    code = state.get("ExitCode")
    if state.get("Running"):
        saw = f"{name} running, Init={init}"
        missing.append(f"a stop: run `docker stop {name}` (with `time` in front to see how long it takes)")
        return Verdict(saw, missing)
    took = f", docker stop took {seconds:.2f} s" if seconds is not None else ""
    saw = f"{name} exited with code {code}, Init={init}{took}"
    if code == 137:
        missing.append("a graceful stop: exit code 137 means SIGTERM was ignored and the engine sent SIGKILL")
    elif seconds is not None and seconds >= MAX_STOP_SECONDS:
        missing.append(f"a stop in under {MAX_STOP_SECONDS:.0f} s (SIGTERM reached no handler in time)")
    elif seconds is None and code != 143:
        missing.append(
            f"evidence of a stop: it exited by itself (code {code}); run a long command such as `sleep 300` "
            f"and stop it with `docker stop {name}`"
        )
    return Verdict(saw, missing)


def _published(attrs: Mapping[str, Any], port: str) -> list[Mapping[str, Any]]:
    return list(((attrs.get("NetworkSettings") or {}).get("Ports") or {}).get(port) or [])


def judge_network(
    net_name: str,
    net_attrs: Mapping[str, Any] | None,
    api_name: str,
    api_attrs: Mapping[str, Any] | None,
    probe: str | None,
) -> Verdict:
    """Exercise ex04-net: ``api_name`` on the user-defined bridge ``net_name``, port 8000 published on
    127.0.0.1, answering ``http://<api_name>:8000/`` by name from another container of that network.

    Args:
        net_name, api_name: The names the exercise fixed.
        net_attrs, api_attrs: ``docker network inspect`` / ``docker inspect`` (None: not there).
        probe: What the probe container got (``"HTTP 200"``), or None when it could not reach the name.
    """
    missing: list[str] = []
    if net_attrs is None:
        missing.append(f"a network named {net_name} (docker network create ...)")
    else:
        if net_attrs.get("Driver") != "bridge":
            missing.append(f"{net_name} as a bridge network (its driver is {net_attrs.get('Driver')})")
        missing += _label_missing(net_name, net_attrs.get("Labels"))
    if api_attrs is None:
        return Verdict(f"no container named {api_name}", [*missing, f"a container named {api_name} on {net_name}"])
    networks = sorted((api_attrs.get("NetworkSettings") or {}).get("Networks") or {})
    running = bool((api_attrs.get("State") or {}).get("Running"))
    ports = _published(api_attrs, "8000/tcp")
    hosts = sorted({f"{p.get('HostIp') or '0.0.0.0'}:{p.get('HostPort')}" for p in ports})
    saw = (
        f"{api_name} {'running' if running else 'not running'} on {', '.join(networks) or 'no network'}, "
        f"port 8000 published on {', '.join(hosts) or 'nothing'}, probe by name: {probe or 'no answer'}"
    )
    if not running:
        missing.append(f"{api_name} running (docker logs {api_name} says why it stopped)")
    if net_name not in networks:
        missing.append(f"{api_name} attached to {net_name} (`--network {net_name}`), not {', '.join(networks)}")
    if not ports:
        missing.append("port 8000 published (`-p 127.0.0.1::8000` picks a free host port)")
    elif any((p.get("HostIp") or "0.0.0.0") != "127.0.0.1" for p in ports):
        missing.append("port 8000 published on 127.0.0.1 only (without an address it listens on every interface)")
    missing += _label_missing(api_name, (api_attrs.get("Config") or {}).get("Labels"))
    if probe is None and running and net_name in networks:
        missing.append(f"an answer on http://{api_name}:8000/ (is a server listening on port 8000 in {api_name}?)")
    return Verdict(saw, missing)


def judge_logs(name: str, attrs: Mapping[str, Any] | None, stdout_lines: int, stderr_lines: int) -> Verdict:
    """Exercise ex04-logs: a rotated ``json-file`` (or ``local``) log holding lines on stdout and on stderr."""
    if attrs is None:
        return Verdict(f"no container named {name}", [f"a container named {name}"])
    log = (attrs.get("HostConfig") or {}).get("LogConfig") or {}
    driver, opts = log.get("Type", "?"), dict(log.get("Config") or {})
    shown = ", ".join(f"{k}={v}" for k, v in sorted(opts.items())) or "no options"
    saw = f"{name} logs with {driver} ({shown}), {stdout_lines} line(s) on stdout, {stderr_lines} on stderr"
    missing = [] if driver in ("json-file", "local") else [f"a driver `docker logs` reads locally (not {driver})"]
    missing += [f"`--log-opt {k}=...`" for k in ("max-size", "max-file") if k not in opts]
    if not stdout_lines:
        missing.append("a line written to stdout")
    if not stderr_lines:
        missing.append("a line written to stderr (`>&2`)")
    missing += _label_missing(name, (attrs.get("Config") or {}).get("Labels"))
    return Verdict(saw, missing)


def _ran_tests(history: Iterable[str]) -> bool:
    """True when a build step (RUN) of the history ran pytest or unittest; metadata lines do not count."""
    for line in history:
        step = line.strip()
        if "#(nop)" in step or step.split(" ", 1)[0].upper() in _METADATA:
            continue
        if any(r in step for r in _TEST_RUNNERS):
            return True
    return False


def judge_test_stage(
    test_ref: str,
    test: tuple[Mapping[str, Any], list[str]] | None,
    release_ref: str,
    release: tuple[Mapping[str, Any], list[str]] | None,
) -> Verdict:
    """Exercise ex05-test-stage: ``test_ref`` built with ``--target test`` (its history ran the tests),
    ``release_ref`` built from the default stage: no test run in its history, exec-form ``CMD``, non-root user.

    Args:
        test_ref, release_ref: The tags the exercise fixed.
        test, release: ``(docker image inspect, history lines)`` of each image, or None when it is not there.
    """
    missing: list[str] = []
    seen: list[str] = []
    if test is None:
        seen.append(f"no image {test_ref}")
        missing.append(f"the test stage built as {test_ref} (`docker build --target test -t {test_ref} ...`)")
    else:
        ran = _ran_tests(test[1])
        seen.append(f"{test_ref} {'ran' if ran else 'did not run'} tests")
        if not ran:
            missing.append(f"a RUN step that runs the tests (python3 -m unittest or pytest) in {test_ref}")
        missing += _label_missing(test_ref, (test[0].get("Config") or {}).get("Labels"))
    if release is None:
        seen.append(f"no image {release_ref}")
        missing.append(f"the release image built as {release_ref} (the default, last stage: no --target)")
        return Verdict(", ".join(seen), missing)
    config = release[0].get("Config") or {}
    cmd, user = list(config.get("Cmd") or []), str(config.get("User") or "")
    seen.append(f"{release_ref} runs {cmd} as user {user or 'root'}")
    if _ran_tests(release[1]):
        missing.append(f"{release_ref} without the test stage (build the runtime stage FROM base, not FROM test)")
    if cmd[:2] == ["/bin/sh", "-c"]:
        missing.append('an exec-form CMD (a JSON list such as ["python3", "app.py"]), not shell form')
    elif not cmd and not config.get("Entrypoint"):
        missing.append("a CMD that starts the app")
    if user in _ROOT_USERS:
        missing.append("a non-root USER in the runtime stage")
    missing += _label_missing(release_ref, config.get("Labels"))
    return Verdict(", ".join(seen), missing)


def _no_new_privileges(opts: Iterable[str]) -> bool:
    return any(o.replace("=", ":") in ("no-new-privileges", "no-new-privileges:true") for o in opts)


def judge_locked(name: str, attrs: Mapping[str, Any] | None, cap_eff: str | None) -> Verdict:
    """Exercise ex05-locked: a service still running with no capabilities, no privilege escalation,
    a read-only root filesystem, a non-root user and the default seccomp profile.

    Args:
        name: The container's name.
        attrs: ``docker inspect`` of it (None: there is none).
        cap_eff: The ``CapEff`` line of its PID 1 (``/proc/1/status``), when it could be read.
    """
    if attrs is None:
        return Verdict(f"no container named {name}", [f"a container named {name}"])
    host, config, state = attrs.get("HostConfig") or {}, attrs.get("Config") or {}, attrs.get("State") or {}
    drop = [c.upper().removeprefix("CAP_") for c in host.get("CapDrop") or []]
    opts, user = list(host.get("SecurityOpt") or []), str(config.get("User") or "")
    status = "running" if state.get("Running") else f"exited ({state.get('ExitCode')})"
    saw = (
        f"{name} {status}, "
        f"cap-drop {drop or 'none'}, cap-add {host.get('CapAdd') or 'none'}, security-opt {opts or 'none'}, "
        f"read-only {bool(host.get('ReadonlyRootfs'))}, user {user or 'root'}" + (f", {cap_eff}" if cap_eff else "")
    )
    missing = [] if "ALL" in drop else ["`--cap-drop ALL`"]
    missing += [] if _no_new_privileges(opts) else ["`--security-opt no-new-privileges`"]
    missing += [] if host.get("ReadonlyRootfs") else ["`--read-only`"]
    missing += [] if user not in _ROOT_USERS else ["a non-root `--user` (for example 10001:10001)"]
    if host.get("Privileged") or any(o.replace("=", ":") == "seccomp:unconfined" for o in opts):
        missing.append("the default seccomp profile and no --privileged")
    if not state.get("Running"):
        missing.append(f"the service still running (docker logs {name} says why it stopped)")
    missing += _label_missing(name, config.get("Labels"))
    return Verdict(saw, missing)
