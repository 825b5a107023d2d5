"""The one waiter for container health: read ``State`` / ``State.Health`` and poll it with a timeout.

The engine reports a container's life (``State.Status``: created, running, exited ...) and,
when the image has a HEALTHCHECK, its verdict (``State.Health.Status``: starting, healthy,
unhealthy) with the last probes (``State.Health.Log``). :func:`container_health` reads one
snapshot as a :class:`HealthState`; :func:`wait_health` polls one container and
:func:`wait_group_health` a set of them (a compose project) until a condition holds or the
time runs out. The waiters never raise for an unhealthy container: each caller turns the
returned :class:`HealthWait` into its own result or error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from helpers.bounded import LOG_CAP, close_quietly, read_capped

__all__ = [
    "HealthState",
    "HealthWait",
    "GroupHealth",
    "container_health",
    "settled",
    "wait_health",
    "wait_group_health",
    "log_tail",
]


@dataclass(frozen=True)
class HealthState:
    """One look at a container's state.

    Attributes:
        status: ``State.Status`` ("created", "running", "exited", "dead" ...).
        health: ``State.Health.Status`` ("starting", "healthy", "unhealthy"), or "none" without a HEALTHCHECK.
        running: ``State.Running``.
        exit_code: ``State.ExitCode`` (meaningful once it exited).
        failing_streak: Consecutive failed probes.
        probes: ``State.Health.Log``: the last probe results (ExitCode, Output, Start, End).
    """

    status: str
    health: str = "none"
    running: bool = False
    exit_code: int | None = None
    failing_streak: int = 0
    probes: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> HealthState:
        """Read a container's inspect data (``container.attrs``)."""
        state = attrs.get("State") or {}
        health = state.get("Health") or {}
        return cls(
            status=state.get("Status", ""),
            health=health.get("Status") or "none",
            running=bool(state.get("Running")),
            exit_code=state.get("ExitCode"),
            failing_streak=int(health.get("FailingStreak") or 0),
            probes=list(health.get("Log") or []),
        )

    @property
    def verdict(self) -> str:
        """The health verdict, or the status for a container without a HEALTHCHECK."""
        return self.health if self.health != "none" else self.status

    @property
    def stopped(self) -> bool:
        """It exited (or died): it will not become healthy."""
        return self.status in ("exited", "dead")

    @property
    def failed(self) -> bool:
        """It stopped, or its HEALTHCHECK says unhealthy."""
        return self.stopped or self.health == "unhealthy"

    @property
    def ready(self) -> bool:
        """Healthy, or running without a HEALTHCHECK."""
        return self.verdict in ("healthy", "running")

    @property
    def last_probe(self) -> dict[str, Any]:
        """The last probe as ``{"ExitCode": ..., "Output": ...}`` ({} before the first probe)."""
        return {k: self.probes[-1].get(k) for k in ("ExitCode", "Output")} if self.probes else {}

    def probe_tail(self, chars: int = 200) -> str:
        """The last probe in one line: ``exit code 1, output '...'`` ("" before the first probe)."""
        if not self.probes:
            return ""
        last = self.last_probe
        return f"exit code {last['ExitCode']}, output {str(last.get('Output') or '').strip()[:chars]!r}"


def container_health(container: Any, reload: bool = True) -> HealthState:
    """The container's :class:`HealthState` (``reload=False`` reads attrs already fetched)."""
    if reload:
        container.reload()
    return HealthState.from_attrs(container.attrs)


@dataclass
class HealthWait:
    """How waiting for one container ended.

    Attributes:
        state: The last :class:`HealthState` read.
        seconds: How long the wait took.
        timed_out: The condition did not hold within the timeout.
        timeline: ``(seconds, health)`` each time the health status changed (the first read included).
    """

    state: HealthState
    seconds: float
    timed_out: bool
    timeline: list[tuple[float, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The final verdict (see :attr:`HealthState.verdict`)."""
        return self.state.verdict

    @property
    def probe_tail(self) -> str:
        """The last probe result in one line (see :meth:`HealthState.probe_tail`)."""
        return self.state.probe_tail()


def settled(state: HealthState, seconds: float) -> bool:
    """The default condition: a verdict (healthy or unhealthy), or the container is no longer running."""
    return state.health in ("healthy", "unhealthy") or not state.running


def wait_health(
    container: Any,
    timeout: float,
    until: Callable[[HealthState, float], bool] = settled,
    poll: float = 0.5,
) -> HealthWait:
    """Poll a container until ``until(state, seconds_waited)`` holds or ``timeout`` seconds pass.

    The state is read at least once, and ``until`` is asked before the timeout is checked, so a
    condition that already holds wins over a zero timeout. ``until`` may probe more (an HTTP
    path) for conditions that are not in the container's state alone.

    Args:
        container: A docker-py Container.
        timeout: Seconds to wait.
        until: The condition; default :func:`settled`.
        poll: Seconds between reads.

    Returns:
        A :class:`HealthWait` (``timed_out`` when the condition never held).
    """
    start = time.monotonic()
    timeline: list[tuple[float, str]] = []
    while True:
        state = container_health(container)
        waited = time.monotonic() - start
        if not timeline or timeline[-1][1] != state.health:
            timeline.append((round(waited, 2), state.health))
        if until(state, waited):
            return HealthWait(state, time.monotonic() - start, False, timeline)
        if waited > timeout:
            return HealthWait(state, time.monotonic() - start, True, timeline)
        time.sleep(poll)


@dataclass
class GroupHealth:
    """How waiting for a set of containers ended.

    Attributes:
        states: key -> last :class:`HealthState` of each container seen.
        containers: key -> the docker-py Container.
        failed: The key of the first container that failed (stopped or unhealthy), or "".
        seconds: How long the wait took.
        timed_out: Not every container was ready within the timeout.
    """

    states: dict[str, HealthState]
    containers: dict[str, Any]
    failed: str
    seconds: float
    timed_out: bool

    @property
    def not_ready(self) -> list[str]:
        """The keys of the containers that are not ready."""
        return [k for k, s in self.states.items() if not s.ready]


def wait_group_health(
    list_containers: Callable[[], Iterable[Any]],
    timeout: float,
    key: Callable[[Any], str] = lambda c: c.name,
    poll: float = 1.0,
) -> GroupHealth:
    """Poll a set of containers until all are ready, one fails, or ``timeout`` seconds pass.

    Args:
        list_containers: Returns the containers (fresh attrs) at each round, e.g. a project's containers.
        timeout: Seconds to wait.
        key: Names a container in the result (e.g. its compose service).
        poll: Seconds between rounds.

    Returns:
        A :class:`GroupHealth`; ``failed`` names the first container that stopped or became unhealthy.
    """
    start = time.monotonic()
    while True:
        containers = {key(c): c for c in list_containers()}
        states = {k: container_health(c, reload=False) for k, c in containers.items()}
        failed = next((k for k, s in states.items() if s.failed), "")
        done = bool(failed) or (bool(states) and all(s.ready for s in states.values()))
        timed_out = not done and time.monotonic() - start > timeout
        if done or timed_out:
            return GroupHealth(states, containers, failed, time.monotonic() - start, timed_out)
        time.sleep(poll)


def log_tail(container: Any, lines: int = 20, max_bytes: int = LOG_CAP) -> str:
    """The last ``lines`` lines of a container's output, at most ``max_bytes`` of them ("" when unreadable).

    The container may be a student's: the engine is asked for the tail only and the answer is read as
    a stream that stops at ``max_bytes`` (one endless line costs no more), saying when it was cut.
    Best effort: it is called while reporting another error, so it never raises.
    """
    try:
        stream = container.logs(stream=True, follow=False, tail=lines)
    except Exception:  # noqa: BLE001 - best effort while reporting another error
        return ""
    try:
        chunks = [stream] if isinstance(stream, bytes) else stream
        return read_capped(chunks, max_bytes, keep="head", drain=False).text()
    except Exception:  # noqa: BLE001
        return ""
    finally:
        close_quietly(stream)
