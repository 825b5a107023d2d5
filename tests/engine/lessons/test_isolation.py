"""Does the containers-versus-VMs lesson measure the real engine?"""

from __future__ import annotations

import pytest

from helpers.engine.client import LABEL, SESSION_LABEL, session_id
from helpers.lessons import isolation

pytestmark = pytest.mark.engine


def _leftovers(engine):
    return engine.containers.list(all=True, filters={"label": [f"{LABEL}=true", f"{SESSION_LABEL}={session_id()}"]})


def test_container_shares_the_engine_kernel(engine):
    """Does the container report the engine's kernel, its own pid/net/mnt namespaces and its memory limit?"""
    r = isolation.inspect_isolation(mem_limit=40 * 2**20, client=engine)
    assert r.container_kernel and r.same_kernel
    for ns in ("pid", "net", "mnt", "uts"):
        assert ns in r.container_ns
        if r.host_ns and r.notebook_kernel == r.engine_kernel:
            assert r.container_ns[ns] != r.host_ns[ns], ns
    assert int(r.memory_limit) == 40 * 2**20
    assert 0 < r.processes_visible < 20
    assert r.cgroup
    assert not _leftovers(engine)


def test_start_times_measured(engine):
    """Are n containers started, timed, and removed?"""
    df = isolation.measure_start_times(2, client=engine)
    assert list(df.run) == [1, 2]
    assert (df.seconds > 0).all() and (df.exit_code == 0).all()
    assert not _leftovers(engine)
