"""Engine tests for helpers.vm.measure: real containers, measured and removed."""

from __future__ import annotations

import pytest
from ci_rules import unavailable

from helpers.engine.client import LABEL, session_id
from helpers.vm.appimage import measure_app_image
from helpers.vm.environment import describe_environment
from helpers.vm.measure import measure_container, replicas_in_budget

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def app(engine):
    return measure_app_image(engine, tag=f"course-measure/test:{session_id()}")


def _leftovers(engine):
    labels = [f"{LABEL}=true", f"org.dockercourse.session={session_id()}", "org.dockercourse.role=measure"]
    return engine.containers.list(all=True, filters={"label": labels})


def test_measure_container_figures_are_plausible(engine, app):
    """Does one measured container start in seconds, use tens of MiB, serve requests, and leave nothing behind?"""
    df = measure_container(app, engine, load_seconds=2)
    v = df.set_index("metric")["value"]
    assert set(df["source"]) == {"measured"} and set(df["platform"]) == {"container"}
    assert 0 < v["start-up"] < 60
    assert 5 < v["memory idle"] < 500
    assert v["memory under load"] >= v["memory idle"] * 0.9
    assert v["requests per second"] > 1
    assert v["image size"] > 50
    assert _leftovers(engine) == []


def test_replicas_in_budget_stops_at_the_budget(engine, app):
    """With a budget of about two replicas, does it stop there, mark the overflow, and remove them all?"""
    one = measure_container(app, engine, idle_seconds=1, load_seconds=0).set_index("metric")["value"]["memory idle"]
    df = replicas_in_budget(app, budget_mib=one * 2.5, max_replicas=4, client=engine, settle_seconds=0.5)
    assert 1 <= len(df) <= 4
    assert df["total_mib"].is_monotonic_increasing
    assert df.attrs["fit"] == int(df[df["fits"]]["replicas"].max())
    assert 1 <= df.attrs["fit"] <= 3
    assert _leftovers(engine) == []


def test_replicas_in_budget_is_bounded_by_max_replicas(engine, app):
    """With a huge budget, does it stop at max_replicas and extrapolate the fit?"""
    df = replicas_in_budget(app, budget_mib=100_000, max_replicas=2, client=engine, settle_seconds=0.2)
    assert len(df) == 2
    assert df.attrs["extrapolated"] and df.attrs["fit"] > 2
    assert _leftovers(engine) == []


def test_describe_environment_names_the_engine(engine):
    """Does the environment table name the engine version and the cores?"""
    env = describe_environment(engine, vm_accel="tcg").set_index("item")["value"]
    assert env["engine"].startswith("Docker Engine ")
    assert "TCG" in env["VM acceleration"]
    assert int(env["CPU cores"]) >= 1


def test_cgroup_reading_agrees_with_the_stats_api(engine, app):
    """Do the cgroup files give the same memory as the engine's own stats API (within 15 %)?"""
    from helpers.vm.loadgen import free_port
    from helpers.vm.measure import _remove, _run, _wait
    from helpers.vm.usage import _cgroup_dirs, container_usage

    port = free_port()
    ctr = _run(engine, app, port)
    try:
        _wait(ctr, app, port, 60)
        if _cgroup_dirs(ctr.id) is None:
            unavailable("the engine's cgroups are not visible from here (remote engine)")
        used, _ = container_usage(ctr)
        s = ctr.stats(stream=False)["memory_stats"]
        st = s.get("stats", {})
        api = s["usage"] - st.get("total_inactive_file", st.get("inactive_file", 0))
        assert abs(used - api) < 0.15 * api
    finally:
        _remove(ctr)


def test_fallback_image_without_the_sample_app(engine, tmp_path):
    """Where the course has no sample app, is python's http.server measured instead, and does it answer?"""
    fallback = measure_app_image(engine, tag=f"course-measure/test-fallback:{session_id()}", app_dir=tmp_path)
    assert "http.server" in fallback.description
    df = measure_container(fallback, engine, idle_seconds=0.5, load_seconds=0)
    assert 0 < df.set_index("metric")["value"]["start-up"] < 60
    assert _leftovers(engine) == []
