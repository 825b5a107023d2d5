"""Self-checks of the short exercises in lessons 04 and 05, and their clean-up.

The student types real ``docker`` commands; :func:`check_exercise` then reads what those commands left
on the engine under fixed names (:data:`EXERCISES`) and says PASS or NOT YET in one line: what it saw and
what is missing. It never raises for an exercise that is not done (CI runs the notebooks unedited), and
without an engine it says so in one line. :func:`exercise_cleanup` removes those names only when they
carry the kit's label (``--label org.dockercourse.kit=true``, which every exercise asks for); anything
else it leaves, with the command to remove it. The judging itself is in :mod:`.exercise_rules`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from helpers.engine.client import LABEL, get_client
from helpers.errors import CourseError, EngineUnavailable
from helpers.lessons import exercise_rules as rules
from helpers.lessons.common import lesson_image, run_once

__all__ = ["Exercise", "EXERCISES", "ExerciseCheck", "exercise_names", "check_exercise", "exercise_cleanup"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: its lesson and the names (after ``<prefix>-``) the student must use.

    Attributes:
        key: Its name in the notebook, e.g. ``"ex04-init"``.
        lesson: ``"04"`` or ``"05"``; the default prefix is ``ex<lesson>``.
        containers, networks, images: Name suffixes: ``"init"`` is the container ``ex04-init``.
    """

    key: str
    lesson: str
    containers: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    images: tuple[str, ...] = ()


#: Every exercise, by key. The names are fixed: the notebooks document them, the checks read them.
EXERCISES: dict[str, Exercise] = {
    e.key: e
    for e in (
        Exercise("ex04-init", "04", containers=("init",)),
        Exercise("ex04-net", "04", containers=("api",), networks=("net",)),
        Exercise("ex04-logs", "04", containers=("logs",)),
        Exercise("ex05-test-stage", "05", images=("app:test", "app:latest")),
        Exercise("ex05-locked", "05", containers=("locked",)),
    )
}

#: Run inside a probe container on the student's network: any HTTP answer counts (even 404).
_PROBE = """
import sys, time, urllib.error, urllib.request
for _ in range(20):
    try:
        print("HTTP", urllib.request.urlopen(sys.argv[1], timeout=2).status); break
    except urllib.error.HTTPError as e:
        print("HTTP", e.code); break
    except OSError:
        time.sleep(0.25)
"""

NEEDS_ENGINE = "needs an engine"


@dataclass
class ExerciseCheck:
    """The outcome of one self-check.

    Attributes:
        exercise: The exercise's key.
        status: ``"PASS"``, ``"NOT YET"`` or ``"needs an engine"``.
        saw: What the check found on the engine, in one phrase.
        missing: What is still missing (empty when it passes).
    """

    exercise: str
    status: str
    saw: str
    missing: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when the exercise is done."""
        return self.status == "PASS"

    def __str__(self) -> str:
        if self.status == NEEDS_ENGINE:
            return f"{self.exercise}: {NEEDS_ENGINE} ({self.saw})"
        if self.passed:
            return f"PASS {self.exercise}: {self.saw}"
        return f"NOT YET {self.exercise}: saw {self.saw}; missing: {'; '.join(self.missing)}"


def _exercise(key: str) -> Exercise:
    if key not in EXERCISES:
        raise CourseError(f"No exercise named {key!r}.", f"Known: {', '.join(EXERCISES)}.")
    return EXERCISES[key]


def exercise_names(key: str, prefix: str | None = None) -> dict[str, list[str]]:
    """The names an exercise reads: ``{"containers": [...], "networks": [...], "images": [...]}``.

    Args:
        key: An exercise of :data:`EXERCISES`.
        prefix: Replaces ``ex04``/``ex05`` (tests use a unique one so runs never share names).
    """
    ex = _exercise(key)
    p = prefix or f"ex{ex.lesson}"
    return {kind: [f"{p}-{s}" for s in getattr(ex, kind)] for kind in ("containers", "networks", "images")}


def check_exercise(key: str, prefix: str | None = None, client: Any = None) -> ExerciseCheck:
    """Read what the student's commands left on the engine and judge the exercise ``key``.

    Args:
        key: An exercise of :data:`EXERCISES` (``"ex04-init"``, ``"ex04-net"``, ``"ex04-logs"``,
            ``"ex05-test-stage"``, ``"ex05-locked"``).
        prefix: Replaces the names' ``ex04``/``ex05`` (tests only).
        client: docker-py client (connects lazily).

    Returns:
        An :class:`ExerciseCheck`; printed, it is one line. Never raises for an exercise not done.
    """
    from docker.errors import DockerException

    names = exercise_names(key, prefix)
    try:
        c = get_client(client, timeout=30)
    except EngineUnavailable:
        return ExerciseCheck(key, NEEDS_ENGINE, "no Docker Engine answers; the exercise runs docker commands")
    try:
        verdict = _JUDGES[key](c, names)
    except (DockerException, EngineUnavailable) as e:
        return ExerciseCheck(key, "NOT YET", "an error from the engine", [f"a check that can read it: {e}"])
    return ExerciseCheck(key, "NOT YET" if verdict.missing else "PASS", verdict.saw, verdict.missing)


def _inspect_container(c: Any, name: str) -> Any:
    from docker.errors import NotFound

    try:
        return c.api.inspect_container(name)
    except NotFound:
        return None


def _stop_events(c: Any, container_id: str) -> list[dict[str, Any]]:
    """The container's events the engine still remembers (it keeps a few hundred), oldest first."""
    now = time.time()
    stream = c.api.events(since=int(now) - 86400, until=f"{now:.9f}", filters={"container": container_id}, decode=True)
    try:
        return list(stream)
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()


def _judge_init(c: Any, names: dict[str, list[str]]) -> rules.Verdict:
    name = names["containers"][0]
    attrs = _inspect_container(c, name)
    seconds = rules.stop_seconds(_stop_events(c, attrs["Id"])) if attrs else None
    return rules.judge_init(name, attrs, seconds)


def _probe(c: Any, network: str, url: str) -> str | None:
    """What a throwaway container on ``network`` gets from ``url`` ("HTTP 200"), or None."""
    try:
        run = run_once(["python3", "-c", _PROBE, url], image=lesson_image(client=c), client=c, network=network)
    except CourseError:
        return None
    lines = [line for line in run.output.splitlines() if line.startswith("HTTP ")]
    return lines[-1] if lines else None


def _judge_network(c: Any, names: dict[str, list[str]]) -> rules.Verdict:
    from docker.errors import NotFound

    net, api = names["networks"][0], names["containers"][0]
    try:
        net_attrs = c.api.inspect_network(net)
    except NotFound:
        net_attrs = None
    api_attrs = _inspect_container(c, api)
    reachable = (
        net_attrs is not None
        and api_attrs is not None
        and (api_attrs.get("State") or {}).get("Running")
        and net in ((api_attrs.get("NetworkSettings") or {}).get("Networks") or {})
    )
    probe = _probe(c, net, f"http://{api}:8000/") if reachable else None
    return rules.judge_network(net, net_attrs, api, api_attrs, probe)


def _count_lines(c: Any, name: str, stdout: bool) -> int:
    from docker.errors import APIError

    try:
        out = c.api.logs(name, stdout=stdout, stderr=not stdout, tail=1000)
    except APIError:  # a driver `docker logs` cannot read
        return 0
    return len(out.decode("utf-8", "replace").splitlines())


def _judge_logs(c: Any, names: dict[str, list[str]]) -> rules.Verdict:
    name = names["containers"][0]
    attrs = _inspect_container(c, name)
    if attrs is None:
        return rules.judge_logs(name, None, 0, 0)
    return rules.judge_logs(name, attrs, _count_lines(c, name, True), _count_lines(c, name, False))


def _image(c: Any, ref: str) -> tuple[dict[str, Any], list[str]] | None:
    from docker.errors import ImageNotFound, NotFound

    try:
        attrs = c.api.inspect_image(ref)
        history = [str(step.get("CreatedBy", "")) for step in c.api.history(ref)]
    except (ImageNotFound, NotFound):
        return None
    return attrs, history


def _judge_test_stage(c: Any, names: dict[str, list[str]]) -> rules.Verdict:
    test_ref, release_ref = names["images"]
    return rules.judge_test_stage(test_ref, _image(c, test_ref), release_ref, _image(c, release_ref))


def _judge_locked(c: Any, names: dict[str, list[str]]) -> rules.Verdict:
    from docker.errors import APIError

    name = names["containers"][0]
    attrs = _inspect_container(c, name)
    cap_eff = None
    if attrs and (attrs.get("State") or {}).get("Running"):
        try:
            out = c.containers.get(name).exec_run(["grep", "CapEff", "/proc/1/status"]).output
            cap_eff = " ".join(out.decode("utf-8", "replace").split()) or None
        except APIError:
            cap_eff = None
    return rules.judge_locked(name, attrs, cap_eff)


_JUDGES = {
    "ex04-init": _judge_init,
    "ex04-net": _judge_network,
    "ex04-logs": _judge_logs,
    "ex05-test-stage": _judge_test_stage,
    "ex05-locked": _judge_locked,
}


def exercise_cleanup(lesson: str, prefix: str | None = None, client: Any = None) -> list[str]:
    """Remove the exercises' containers, networks and images of ``lesson``, only those with the kit's label.

    Args:
        lesson: ``"04"`` or ``"05"``.
        prefix: Replaces ``ex04``/``ex05`` (tests only).
        client: docker-py client (connects lazily).

    Returns:
        One line per name found: removed, or left with the command to remove it yourself.
    """
    from docker.errors import APIError, NotFound

    keys = [k for k, e in EXERCISES.items() if e.lesson == lesson]
    if not keys:
        raise CourseError(f"No exercises in lesson {lesson!r}.", "Lessons with exercises: 04, 05.")
    try:
        c = get_client(client, timeout=30)
    except EngineUnavailable:
        return [f"{NEEDS_ENGINE}: nothing to clean up here"]
    found = {kind: [n for k in keys for n in exercise_names(k, prefix)[kind]] for kind in ("containers", "networks")}
    images = [n for k in keys for n in exercise_names(k, prefix)["images"]]
    kinds = [
        ("container", found["containers"], c.containers.get, lambda r: r.labels, "docker rm -f", _rm_container),
        ("network", found["networks"], c.networks.get, lambda r: r.attrs.get("Labels"), "docker network rm", _rm),
        ("image", images, c.images.get, lambda r: r.labels, "docker rmi", None),
    ]
    lines: list[str] = []
    for kind, names, get, labels_of, command, remove in kinds:
        for name in names:
            try:
                resource = get(name)
            except NotFound:
                continue
            if not rules.labelled(labels_of(resource)):
                lines.append(f"left {kind} {name}: no `{LABEL}=true` label; remove it yourself: {command} {name}")
                continue
            try:
                c.images.remove(name) if remove is None else remove(resource)
                lines.append(f"removed {kind} {name}")
            except (APIError, NotFound) as e:
                lines.append(f"could not remove {kind} {name} ({e.__class__.__name__}): {command} {name}")
    return lines or [f"nothing to clean up: no exercise names of lesson {lesson} on this engine"]


def _rm_container(container: Any) -> None:
    container.remove(force=True, v=True)


def _rm(resource: Any) -> None:
    resource.remove()
