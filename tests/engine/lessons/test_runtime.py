"""Do the runtime-configuration demos show env vars, mounts, health and limits on the real engine?"""

from __future__ import annotations

import pytest

from helpers.engine.client import LABEL, SESSION_LABEL, session_id
from helpers.lessons import runtime

pytestmark = pytest.mark.engine


def _mine(engine):
    f = {"label": [f"{LABEL}=true", f"{SESSION_LABEL}={session_id()}"]}
    return engine.containers.list(all=True, filters=f) + engine.volumes.list(filters=f)


def test_env_inside(engine):
    """Does the container see the variables passed in, next to the image's own?"""
    env = runtime.env_inside({"APP_GREETING": "hi there"}, client=engine)
    assert env["APP_GREETING"] == "hi there"
    assert "PATH" in env and "HOSTNAME" in env


def test_bind_mount_both_ways(engine):
    """Does the container read the host's file and the host read the container's?"""
    r = runtime.bind_mount_demo(client=engine)
    assert r.read_inside == "written on the host"
    assert r.written_back == "written in the container"
    assert r.mount["Type"] == "bind"


def test_volume_outlives_container(engine):
    """Does data written by a removed container come back in a new one, and is the volume removed after?"""
    r = runtime.volume_demo(client=engine)
    assert r.first_removed and r.read_back == r.written
    assert r.volume not in [v.name for v in engine.volumes.list()]
    assert not _mine(engine)


def test_health_turns_unhealthy(engine):
    """Does the container go healthy then unhealthy, with the failing probe's output recorded?"""
    r = runtime.health_demo(healthy_for=2.0, interval=0.5, retries=2, client=engine)
    statuses = list(r.timeline.status)
    assert "healthy" in statuses and statuses[-1] == "unhealthy"
    assert statuses.index("healthy") < statuses.index("unhealthy")
    assert r.last_probe["ExitCode"] == 1 and "missing" in r.last_probe["Output"]
    assert r.failing_streak >= r.retries
    assert not _mine(engine)


def test_memory_limit_enforced(engine):
    """Is a process that outgrows its memory limit killed (137, OOMKilled), and one that fits left alone?"""
    r = runtime.memory_limit_demo(limit_mb=32, request_mb=120, client=engine)
    assert r.exit_code == 137 and r.oom_killed
    assert r.reached_mb < 32
    ok = runtime.memory_limit_demo(limit_mb=128, request_mb=40, client=engine)
    assert ok.exit_code == 0 and not ok.oom_killed and ok.reached_mb == 40
