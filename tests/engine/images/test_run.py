"""helpers.images.run and .inspect on the real engine: readiness, health, logs on failure, ports, cleanup."""

from __future__ import annotations

import socket
import time
import tracemalloc
import uuid

import pytest

from helpers.bounded import LOG_CAP, OUTPUT_CAP
from helpers.engine.baseimages import base_image
from helpers.engine.client import LABEL, SESSION_LABEL
from helpers.errors import ContainerError, HealthTimeout, PortInUse
from helpers.images.build import build
from helpers.images.inspect import compare_images, inspect_image
from helpers.images.run import attach_container, run_container

pytestmark = pytest.mark.engine

WEB = """\
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
RUN mkdir /srv/www && echo ok > /srv/www/health && useradd --uid 10001 web
WORKDIR /srv/www
USER web
ENV GREETING=hi
EXPOSE 8000
HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
CMD ["python3", "-m", "http.server", "8000"]
"""


@pytest.fixture(scope="module")
def web_image(engine, tmp_path_factory):
    tag = f"course-test/web:{uuid.uuid4().hex[:8]}"
    build(tmp_path_factory.mktemp("ctx"), dockerfile_text=WEB, tags=[tag])
    yield tag
    engine.images.remove(tag, force=True)


def _mine(engine, kit_session):
    return engine.containers.list(all=True, filters={"label": [f"{LABEL}=true", f"{SESSION_LABEL}={kit_session}"]})


def test_run_waits_for_http_and_removes_on_exit(engine, web_image, kit_session):
    """Does run_container answer HTTP on a published 127.0.0.1 port, and is the container gone after `with`?"""
    with run_container(web_image, ports=[8000], timeout=20) as app:
        assert app.get("/health").body.strip() == "ok"
        assert app.url("/x").startswith("http://127.0.0.1:")
        assert app.status() == "running"
        cid = app.id
    assert cid not in [c.id for c in _mine(engine, kit_session)]


def test_run_waits_until_healthy(web_image):
    """With wait_healthy, is the HEALTHCHECK state 'healthy' when run_container returns?"""
    with run_container(web_image, ports=[8000], wait_http=None, wait_healthy=True, timeout=30) as app:
        assert app.health() == "healthy"


def test_exec_runs_as_the_image_user(web_image):
    """Does exec run inside the container as the image's USER?"""
    with run_container(web_image, ports=[8000], timeout=20, sandbox=True) as app:
        r = app.exec(["id", "-u"])
    assert (r.exit_code, r.output.strip()) == (0, "10001")


def test_exec_flood_is_capped_and_cheap(web_image):
    """Does a command printing 200 MB cost the grader about the cap in memory, keeping its tail and exit code?"""
    with run_container(web_image, ports=[8000], timeout=20, sandbox=True) as app:
        tracemalloc.start()
        try:
            r = app.exec(["sh", "-c", "yes | head -c 200000000; exit 3"], timeout=120)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert (r.exit_code, r.cut, r.timed_out) == (3, True, False)
        assert r.output.startswith("[output cut: kept 1048576 of 200000000") and r.output.endswith("y\n")
        assert peak < 8 * OUTPUT_CAP
        assert app.exec(["echo", "still here"]).output == "still here\n"


def test_exec_past_its_time_limit_kills_the_container(web_image):
    """Does a silent command that never ends come back at the time limit, its container killed?"""
    with run_container(web_image, ports=[8000], timeout=20, sandbox=True) as app:
        start = time.monotonic()
        r = app.exec(["sh", "-c", "echo started; sleep 1000"], timeout=3)
        assert time.monotonic() - start < 15
        assert r.timed_out and r.exit_code == -1 and r.output.endswith("started\n")
        assert app.status() != "running"


def test_logs_of_one_endless_line_are_capped(web_image):
    """Are the logs of a container that printed 50 MB without a newline read up to the byte cap only?"""
    cmd = ["sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' z; sleep 1000"]
    with run_container(web_image, ports=[8000], command=cmd, wait_http=None, timeout=20) as app:
        time.sleep(3)
        text = app.logs(5)
    assert text.startswith("[output cut") and text.count("z") == LOG_CAP


def test_port_taken_by_a_process_gives_port_in_use(engine, web_image, kit_session):
    """When the host port is taken by another process, is PortInUse raised and no container left?"""
    before = len(_mine(engine, kit_session))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        with pytest.raises(PortInUse) as err:
            run_container(web_image, ports={8000: port}, timeout=10)
    finally:
        s.close()
    assert err.value.port == port and f"Port {port}" in str(err.value)
    assert len(_mine(engine, kit_session)) == before


def test_port_taken_by_a_container_gives_port_in_use(engine, web_image, kit_session):
    """When another container publishes the port, is PortInUse raised and only the first container left?"""
    with run_container(web_image, ports=[8000], timeout=20) as first:
        before = len(_mine(engine, kit_session))
        with pytest.raises(PortInUse) as err:
            run_container(web_image, ports={8000: first.ports[8000]}, timeout=10)
        assert err.value.port == first.ports[8000]
        assert len(_mine(engine, kit_session)) == before


def test_app_that_never_answers_times_out_with_its_log(engine, web_image, kit_session):
    """An app listening on the wrong port: HealthTimeout with its log lines, and no container left?"""
    before = len(_mine(engine, kit_session))
    cmd = [
        "python3",
        "-c",
        "print('listening on 9000', flush=True); import http.server as h; "
        "h.HTTPServer(('', 9000), h.SimpleHTTPRequestHandler).serve_forever()",
    ]
    with pytest.raises(HealthTimeout) as err:
        run_container(web_image, ports=[8000], command=cmd, timeout=4)
    assert "listening on 9000" in err.value.log_tail
    assert "GET /health" in str(err.value)
    assert len(_mine(engine, kit_session)) == before


def test_app_that_exits_reports_exit_code_and_log(engine, web_image, kit_session):
    """An app that crashes at start: ContainerError with the exit code and its traceback, no container left?"""
    before = len(_mine(engine, kit_session))
    with pytest.raises(ContainerError) as err:
        run_container(
            web_image, ports=[8000], command=["python3", "-c", "raise SystemExit('bad config: PORT')"], timeout=20
        )
    assert not isinstance(err.value, HealthTimeout)
    assert err.value.exit_code == 1 and "bad config: PORT" in err.value.log_tail
    assert len(_mine(engine, kit_session)) == before


def test_attach_observes_a_container_started_elsewhere(engine, web_image, kit_session):
    """Does attach_container find a `docker run -d --name ... -p 127.0.0.1::8000` container's port and wait for it?"""
    name = f"course-test-attach-{uuid.uuid4().hex[:8]}"
    ctr = engine.containers.run(
        web_image, name=name, detach=True, ports={"8000/tcp": ("127.0.0.1", None)}, labels={LABEL: "true"}
    )
    try:
        app = attach_container(name, ports=[8000], timeout=20)
        assert app.get("/health").body.strip() == "ok" and app.name == name
        ctr.reload()
        assert app.ports[8000] == int(ctr.ports["8000/tcp"][0]["HostPort"])
        ctr.stop(timeout=1)
        with pytest.raises(ContainerError, match="publishes none of the ports"):
            attach_container(name, ports=[8000], timeout=5)
    finally:
        ctr.remove(force=True)
    with pytest.raises(ContainerError, match="No container named"):
        attach_container(name)


def test_inspect_image_reads_the_facts(web_image):
    """Does inspect_image report user, workdir, exec-form CMD, port, env, healthcheck and the base image?"""
    f = inspect_image(web_image)
    assert (f.user, f.workdir, f.exposed_ports) == ("web", "/srv/www", ["8000/tcp"])
    assert f.exec_form and f.command == ["python3", "-m", "http.server", "8000"]
    assert f.env["GREETING"] == "hi" and f.healthcheck[0] == "CMD"
    assert f.base == base_image("slim")
    assert f.fs_layers == inspect_image(base_image("slim")).fs_layers + 2  # RUN and WORKDIR add layers
    assert sum(layer.size for layer in f.layers) == f.size


def test_compare_images_puts_images_side_by_side(web_image):
    """Does compare_images give one row per image with sizes relative to the first?"""
    df = compare_images({"slim base": base_image("slim"), "web": web_image})
    assert list(df.index) == ["slim base", "web"]
    assert df.loc["slim base", "size_vs_first"] == 1.0
    assert df.loc["web", "size_mb"] >= df.loc["slim base", "size_mb"]
    assert df.loc["web", "user"] == "web" and bool(df.loc["web", "healthcheck"])
