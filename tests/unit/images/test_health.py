"""Unit tests for helpers.images.health: the one health waiter, on fake containers (no engine)."""

from __future__ import annotations

from typing import Any

from helpers.images.health import HealthState, container_health, log_tail, wait_group_health, wait_health


class FakeContainer:
    """A container whose State walks through the given snapshots, one per reload()."""

    def __init__(self, name: str, states: list[dict[str, Any]], labels: dict[str, str] | None = None) -> None:
        self.name, self.labels, self._states = name, labels or {}, list(states)
        self.attrs = {"State": self._states[0]}

    def reload(self) -> None:
        if len(self._states) > 1:
            self._states.pop(0)
        self.attrs = {"State": self._states[0]}

    def logs(self, tail: int = 20) -> bytes:
        raise RuntimeError("engine gone")


def _state(status: str = "running", health: str | None = None, **extra: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"Status": status, "Running": status == "running", "ExitCode": extra.pop("code", 0)}
    if health:
        s["Health"] = {"Status": health, "FailingStreak": extra.pop("streak", 0), "Log": extra.pop("log", [])}
    return s


def test_state_reads_health_probes_and_verdict():
    """Does one snapshot give the health, the verdict, readiness and the last probe in one line?"""
    probe = {"ExitCode": 1, "Output": "not ready\n"}
    s = HealthState.from_attrs({"State": _state("running", "unhealthy", streak=3, log=[probe])})
    assert (s.health, s.verdict, s.failed, s.ready, s.failing_streak) == ("unhealthy", "unhealthy", True, False, 3)
    assert s.last_probe == {"ExitCode": 1, "Output": "not ready\n"}
    assert s.probe_tail() == "exit code 1, output 'not ready'"
    plain = HealthState.from_attrs({"State": _state("running")})
    assert (plain.health, plain.verdict, plain.ready, plain.probe_tail()) == ("none", "running", True, "")


def test_wait_stops_at_the_verdict_and_records_the_timeline():
    """Does the waiter poll until healthy and record each health change once?"""
    ctr = FakeContainer("a", [_state(health="starting"), _state(health="starting"), _state(health="healthy")])
    wait = wait_health(ctr, timeout=5, poll=0)
    assert wait.status == "healthy" and not wait.timed_out
    assert [h for _, h in wait.timeline] == ["starting", "healthy"]


def test_wait_times_out_without_a_verdict():
    """Does a container that stays 'starting' end in a timed-out wait (not an exception)?"""
    wait = wait_health(FakeContainer("a", [_state(health="starting")]), timeout=0, poll=0)
    assert wait.timed_out and wait.status == "starting"


def test_group_wait_names_the_first_failed_container():
    """Does the group waiter stop at a container that exited, and name it by its key?"""
    ok = FakeContainer("c1", [_state(health="healthy")], {"svc": "db"})
    bad = FakeContainer("c2", [_state("exited", code=3)], {"svc": "api"})
    wait = wait_group_health(lambda: [ok, bad], timeout=5, key=lambda c: c.labels["svc"], poll=0)
    assert wait.failed == "api" and wait.states["api"].exit_code == 3 and not wait.timed_out


def test_group_wait_is_done_when_all_are_ready():
    """Are healthy and running-without-a-check containers both ready?"""
    a = FakeContainer("a", [_state(health="healthy")])
    b = FakeContainer("b", [_state("running")])
    wait = wait_group_health(lambda: [a, b], timeout=5, poll=0)
    assert not wait.failed and not wait.timed_out and wait.not_ready == []


def test_log_tail_never_raises():
    """Is the log tail best effort (empty when the engine cannot give it)?"""
    ctr = FakeContainer("a", [_state()])
    assert log_tail(ctr) == "" and container_health(ctr).status == "running"
