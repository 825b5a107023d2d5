"""Engine tests for helpers.ci.compose: the sample stack under the real Compose CLI."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import requests

from helpers.ci.compose import ComposeStack
from helpers.ci.composefile import SAMPLE_COMPOSE, load_compose
from helpers.ci.samplestack import prepare_sample_images, smoke_test
from helpers.errors import HealthTimeout, PortInUse

pytestmark = pytest.mark.engine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def images(engine):
    return prepare_sample_images(engine)


def test_stack_comes_up_checks_pass_and_data_survives_restart(engine, images):
    """Does the stack get healthy, pass the smoke test, keep an item across a restart, and leave nothing after down?"""
    port = _free_port()
    stack = ComposeStack(project=f"t{port}", env={**images, "APP_PORT": str(port)})
    try:
        assert stack.up(timeout=120) == {"app": "healthy", "db": "healthy"}
        assert all(ok for _, ok, _ in smoke_test(f"http://127.0.0.1:{port}")), smoke_test(f"http://127.0.0.1:{port}")
        requests.post(f"http://127.0.0.1:{port}/items", json={"name": "kept", "price": 1}, timeout=5)
        stack.restart_stack(timeout=120)
        assert "kept" in [i["name"] for i in requests.get(f"http://127.0.0.1:{port}/items", timeout=5).json()]
        assert "database system is ready" in stack.logs("db")
        labels = [c.labels for c in stack.containers(engine)]
        assert all(lb.get("org.dockercourse.kit") == "true" for lb in labels) and len(labels) == 2
        vols = engine.volumes.list(filters={"label": f"com.docker.compose.project={stack.project}"})
        assert [v.attrs["Labels"].get("org.dockercourse.kit") for v in vols] == ["true"]
    finally:
        stack.down()
    assert stack.containers(engine) == []
    assert engine.volumes.list(filters={"label": f"com.docker.compose.project={stack.project}"}) == []


def test_never_healthy_service_is_reported_and_torn_down(engine, images, tmp_path: Path):
    """Does a database whose health check always fails give HealthTimeout naming it, with nothing left behind?"""
    sick = tmp_path / "sick.yaml"
    sick.write_text(
        'services:\n  db:\n    healthcheck:\n      test: ["CMD-SHELL", "exit 1"]\n'
        "      interval: 1s\n      retries: 2\n"
    )
    stack = ComposeStack(
        [SAMPLE_COMPOSE, sick], project=f"sick{_free_port()}", env={**images, "APP_PORT": str(_free_port())}
    )
    with pytest.raises(HealthTimeout, match="'db'"):
        stack.up(timeout=60)
    assert stack.containers(engine) == []


def test_port_conflict_starts_nothing(engine, images):
    """When the app's port is taken, is PortInUse raised before any container starts?"""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        stack = ComposeStack(project=f"busy{port}", env={**images, "APP_PORT": str(port)})
        with pytest.raises(PortInUse) as e:
            stack.up()
    assert e.value.port == port
    assert stack.containers(engine) == []


def test_kit_reading_matches_compose_config(engine):
    """Does the kit's reading of the file (substitution included) agree with `compose config`?"""
    import yaml

    stack = ComposeStack(env={"APP_PORT": "18555", "POSTGRES_PASSWORD": "pw"})
    theirs = yaml.safe_load(stack.run("config").stdout)
    ours, _ = load_compose(env=stack.env)
    for name in ("app", "db"):
        assert theirs["services"][name]["image"] == ours["services"][name]["image"]
        assert theirs["services"][name]["environment"] == ours["services"][name]["environment"]
    assert "18555" in json.dumps(theirs["services"]["app"]["ports"])
