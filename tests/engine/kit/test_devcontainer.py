"""The Codespaces image builds here (on the local stand-in for its Python base), with what it promises inside.

GitHub's release downloads are not reachable here, so the build runs the real install step of the
Dockerfile on a lock that names local stand-ins (file:// URLs in the build context) with their real
checksums: the same script, checksum check and PATH as in Codespaces, with other bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile

import pytest
from kitroot import ROOT

from helpers.engine.baseimages import base_image
from helpers.errors import CourseError
from helpers.images.build import build

FOLDER = ROOT / ".devcontainer"


def _context(tmp_path, good: bool = True):
    """A copy of .devcontainer plus a lock naming local fake trivy and cosign releases for this architecture."""
    ctx = tmp_path / "devcontainer"
    shutil.copytree(FOLDER, ctx)
    fake = ctx / "fake"
    fake.mkdir()
    trivy = b"#!/bin/sh\necho 'Version: 0.0.0-devcontainer-test'\n"
    with tarfile.open(fake / "trivy.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("trivy")
        info.size, info.mode = len(trivy), 0o755
        tar.addfile(info, io.BytesIO(trivy))
    (fake / "cosign").write_text("#!/bin/sh\necho 'cosign v0.0.0-devcontainer-test'\n")
    sums = {n: hashlib.sha256((fake / n).read_bytes()).hexdigest() for n in ("trivy.tar.gz", "cosign")}
    if not good:
        sums["trivy.tar.gz"] = "f" * 64
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    (ctx / "test.lock").write_text(
        f"trivy {arch} {sums['trivy.tar.gz']} file:///tmp/devcontainer/fake/trivy.tar.gz trivy\n"
        f"cosign {arch} {sums['cosign']} file:///tmp/devcontainer/fake/cosign -\n"
    )
    return ctx


def _build(ctx, engine):
    cfg = json.loads((FOLDER / "devcontainer.json").read_text())
    return build(
        ctx / cfg["build"]["context"],
        dockerfile=ctx / cfg["build"]["dockerfile"],
        build_args={"BASE_IMAGE": base_image("slim", engine), "TOOLS_LOCK": "test.lock"},
        kit_label=True,
    )


@pytest.mark.engine
def test_devcontainer_image_builds(engine, tmp_path):
    """Does .devcontainer/Dockerfile build, with make, git, trivy, cosign and the Jupyter settings inside?"""
    result = _build(_context(tmp_path), engine)
    try:
        script = (
            "command -v make && command -v git && trivy --version && cosign version"
            " && test -f /etc/jupyter/jupyter_server_config.py && echo jupyter-config && ls /tmp/devcontainer || true"
        )
        out = engine.containers.run(result.image_id, ["sh", "-c", script], remove=True).decode()
        assert "/make" in out and "/git" in out
        assert "Version: 0.0.0-devcontainer-test" in out and "cosign v0.0.0-devcontainer-test" in out
        assert "jupyter-config" in out
        assert "test.lock" not in out  # the build's scratch folder is gone
    finally:
        engine.images.remove(result.image_id, force=True)


@pytest.mark.engine
def test_devcontainer_build_stops_on_a_wrong_checksum(engine, tmp_path):
    with pytest.raises(CourseError) as err:
        _build(_context(tmp_path, good=False), engine)
    assert "not the pinned" in str(err.value)
