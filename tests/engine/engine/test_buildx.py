"""The buildx plugin on this host, for real: after the set-up `docker buildx version` works, the `docker` a student
types builds with `docker buildx build --load`, and a 23+ client's `DOCKER_BUILDKIT=1 docker build` works too. On a
Debian 12 host the installer also downloads and checks the plugin into a fresh directory from the host's mirror."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import pytest

from helpers.engine.baseimages import base_image
from helpers.engine.buildx import RECORD_NAME, buildx_version, ensure_buildx_plugin, install_buildx_plugin, is_debian_12
from helpers.engine.client import LABEL, kit_labels
from helpers.images.builders import _candidates, _client_major

pytestmark = pytest.mark.engine

DOCKERFILE = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN --mount=type=cache,target=/root/.cache echo {nonce} > /probe\n"


def _build(cmd: list[str], tmp_path, engine, env: dict[str, str] | None = None) -> str:
    """Run a build command a student would type; return its output after checking the image is in the engine."""
    nonce = uuid.uuid4().hex
    (tmp_path / "Dockerfile").write_text(DOCKERFILE.replace("{nonce}", nonce))
    tag = f"course-kit/buildx-probe:{nonce[:12]}"
    labels = [f"--label={k}={v}" for k, v in kit_labels("test").items()]
    args = [*cmd, "--progress=plain", "--build-arg", f"BASE_IMAGE={base_image('slim')}", *labels, "-t", tag, "."]
    out = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    try:
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        image = engine.images.get(tag)
        assert image.labels.get(LABEL) == "true"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
    return out.stdout + out.stderr


def test_after_setup_students_docker_builds_with_buildx(tmp_path, engine):
    """After the set-up (idempotent here), does `docker buildx version` work, and does `docker buildx build --load`
    of a RUN --mount Dockerfile on the kit's stand-in base print BuildKit's steps and load the image?"""
    ensure_buildx_plugin(print)  # what `make env` does; nothing when buildx already works
    assert buildx_version().startswith("github.com/docker/buildx"), "no docker client has buildx after the set-up"
    docker = shutil.which("docker")  # the student's: the kit's launcher when the course venv is first on PATH
    assert subprocess.run([docker, "buildx", "version"], capture_output=True, timeout=30).returncode == 0
    log = _build([docker, "buildx", "build", "--load"], tmp_path, engine)
    assert "[internal] load build definition" in log and "RUN --mount=type=cache" in log and "naming to" in log


def test_a_23_plus_client_builds_with_docker_buildkit(tmp_path, engine):
    """Does `DOCKER_BUILDKIT=1 docker build` of the newest docker client here use BuildKit (it stopped with "the
    buildx component is missing" before the plugin)?"""
    newest = max(_candidates(), key=_client_major)
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    log = _build([newest, "build"], tmp_path, engine, env=env)
    assert "buildx component is missing" not in log and "#1 [internal] load build definition" in log


def test_the_installer_fetches_and_checks_the_plugin_from_the_hosts_mirror(tmp_path):
    """On Debian 12: does a fresh install (another plugin directory) download, check and install a plugin that a
    client using that directory runs, with the kit's record? Elsewhere: does the set-up leave buildx alone?"""
    if not is_debian_12():
        assert ensure_buildx_plugin(print) is None
        return
    plugin = install_buildx_plugin(print, tmp_path / "cli-plugins")
    record = json.loads((tmp_path / RECORD_NAME).read_text())
    assert record["package"] == "docker-buildx" and record["suite"] == "trixie"
    env = dict(os.environ, DOCKER_CONFIG=str(tmp_path))
    out = subprocess.run(
        [max(_candidates(), key=_client_major), "buildx", "version"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0 and record["version"] in out.stdout, out.stderr
    assert plugin.stat().st_mode & 0o111
