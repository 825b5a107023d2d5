"""The foundation against the real engine: labels and cleanup, BuildKit builds, base images, registry."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import requests

from helpers.engine.baseimages import LOCAL, OFFICIAL, base_image
from helpers.engine.client import LABEL, SESSION_LABEL, cleanup, kit_labels
from helpers.engine.registry import local_registry
from helpers.errors import BuildError, DockerfileError
from helpers.images.build import build
from helpers.images.builders import find_builder

pytestmark = pytest.mark.engine


def test_cleanup_removes_only_what_the_kit_labelled(engine, kit_session):
    """Does cleanup remove the kit's labelled container and leave an unlabelled one alone?"""
    img = base_image("slim")
    mine = engine.containers.create(img, "true", labels=kit_labels())
    other = engine.containers.create(img, "true", name=f"not-the-kits-{uuid.uuid4().hex[:6]}")
    try:
        report = cleanup(session=kit_session)
        assert mine.name in report.containers
        assert other.name not in report.containers
        other.reload()  # still there
    finally:
        other.remove(force=True)


def test_build_uses_buildkit_with_cache_mounts(tmp_path, engine):
    """Does a Dockerfile with RUN --mount=type=cache build, and does a rebuild come from the cache?"""
    assert find_builder().buildkit, "this machine should have a BuildKit path"
    (tmp_path / "hello.txt").write_text("hi\n")
    nonce = uuid.uuid4().hex  # a step no earlier run can have cached
    dockerfile = (
        "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\n"
        f"RUN --mount=type=cache,target=/root/.cache echo {nonce} > /root/.cache/x && echo ok > /built\n"
        "COPY hello.txt /hello.txt\n"
    )
    tag = f"course-test/buildkit:{uuid.uuid4().hex[:8]}"
    first = build(tmp_path, dockerfile_text=dockerfile, tags=[tag])
    second = build(tmp_path, dockerfile_text=dockerfile, tags=[tag])
    image = engine.images.get(tag)
    assert image.id == first.image_id == second.image_id
    assert image.labels[LABEL] == "true" and SESSION_LABEL in image.labels
    run_steps = [s for s in second.steps if s.instruction.startswith(("RUN", "COPY"))]
    assert run_steps and all(s.cached for s in run_steps)
    assert not any(s.cached for s in first.steps if s.instruction.startswith("RUN"))


def test_broken_dockerfile_names_the_line(tmp_path):
    """Does a Dockerfile that does not parse give a DockerfileError with its line number?"""
    with pytest.raises(DockerfileError) as e:
        build(tmp_path, dockerfile_text="FROM scratch\nBOGUS instruction\n")
    assert e.value.line == 2 and "-> " in str(e.value)


def test_failing_step_carries_step_and_log(tmp_path):
    """Does a failing RUN raise a BuildError naming the step and showing its output?"""
    with pytest.raises(BuildError) as e:
        build(tmp_path, dockerfile_text="ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo about-to-fail && exit 3\n")
    assert "exit 3" in e.value.step
    assert "about-to-fail" in e.value.log_tail


def test_base_image_is_python_with_site_certificates(engine):
    """Does the base image run Python, carry the CA bundle, and carry no kit label (labels are inherited)?"""
    ref = base_image("slim")
    assert ref in (OFFICIAL["slim"], LOCAL["slim"])
    out = engine.containers.run(
        ref,
        [
            "python",
            "-c",
            "import ssl,sys; print(sys.version_info[0]); print(ssl.get_default_verify_paths().openssl_cafile)",
        ],
        remove=True,
    )
    assert out.decode().startswith("3")
    assert LABEL not in (engine.images.get(ref).labels or {})


def test_registry_requires_auth_and_accepts_the_course_login(engine, tmp_path):
    """Is an anonymous request refused, and does a push with the course credentials land in the catalog?"""
    info = local_registry()
    assert requests.get(f"{info.url}/v2/", timeout=5).status_code == 401
    assert requests.get(f"{info.url}/v2/", auth=(info.username, "wrong"), timeout=5).status_code == 401
    repo = f"{info.address}/course-test/push-{uuid.uuid4().hex[:6]}"
    img = engine.images.get(base_image("debian"))
    img.tag(repo, "1.0")
    try:
        anonymous = engine.images.push(repo, tag="1.0", auth_config={"username": "x", "password": "y"})
        assert "error" in anonymous.lower() or "unauthorized" in anonymous.lower()
        pushed = engine.images.push(repo, tag="1.0", auth_config=info.auth_config())
        assert '"error"' not in pushed
        tags = requests.get(
            f"{info.url}/v2/{repo.split('/', 1)[1]}/tags/list", auth=(info.username, info.password), timeout=5
        ).json()
        assert tags["tags"] == ["1.0"]
    finally:
        engine.images.remove(f"{repo}:1.0")


def test_env_status_reports_every_required_part():
    """Does `python -m helpers env status` show a real engine, BuildKit, a base image and an authenticated registry?"""
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "env", "status"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = {ln.split()[0]: ln for ln in proc.stdout.splitlines() if ln.strip()}
    assert " ok " in lines["engine"] and "Docker" in lines["engine"]
    assert " ok " in lines["buildkit"] and "BuildKit" in lines["buildkit"]
    assert " ok " in lines["registry"] and "authentication on" in lines["registry"]
    assert "password" not in proc.stdout.lower().replace("password in", "")


def test_env_up_twice_changes_nothing():
    """Is `env up` idempotent: on a ready machine, does it start or build nothing and exit 0?"""
    proc = subprocess.run([sys.executable, "-m", "helpers", "env", "up"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "already running" in proc.stdout
    assert "Building" not in proc.stdout and "Starting" not in proc.stdout
