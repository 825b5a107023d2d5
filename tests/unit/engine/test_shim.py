"""The `docker` students type: the launcher picks a CLI that builds with BuildKit and has compose."""

from __future__ import annotations

import subprocess

from helpers.engine import shim
from helpers.images.builders import Builder


def test_classic_client_gets_buildkit_and_compose_v1(tmp_path):
    fake = tmp_path / "realdocker"
    fake.write_text('#!/bin/sh\necho "real $DOCKER_BUILDKIT $*"\n')
    fake.chmod(0o755)
    compose = tmp_path / "docker-compose"
    compose.write_text('#!/bin/sh\necho "v1 $*"\n')
    compose.chmod(0o755)
    script = tmp_path / "docker"
    script.write_text(shim.shim_text(Builder("classic-buildkit", str(fake)), str(compose)))
    script.chmod(0o755)
    assert (
        subprocess.run([script, "build", "-t", "x", "."], capture_output=True, text=True).stdout
        == "real 1 build -t x .\n"
    )
    assert subprocess.run([script, "compose", "up", "-d"], capture_output=True, text=True).stdout == "v1 up -d\n"
    env = {"DOCKER_BUILDKIT": "0", "PATH": "/usr/bin:/bin"}
    assert subprocess.run([script, "ps"], capture_output=True, text=True, env=env).stdout == "real 0 ps\n"


def test_never_overwrites_a_docker_it_did_not_write(tmp_path, monkeypatch):
    theirs = tmp_path / "docker"
    theirs.write_text("#!/bin/sh\necho mine\n")
    monkeypatch.setattr(shim, "choose_cli", lambda: Builder("classic-buildkit", "/usr/bin/docker"))
    assert shim.install_docker_shim(log=lambda m: None, bin_dir=tmp_path) is None
    assert theirs.read_text() == "#!/bin/sh\necho mine\n"


def test_written_when_needed_and_removed_when_not(tmp_path, monkeypatch):
    monkeypatch.setattr(shim, "choose_cli", lambda: Builder("classic-buildkit", "/usr/bin/docker"))
    monkeypatch.setattr(shim, "_works", lambda cmd: False)
    path = shim.install_docker_shim(log=lambda m: None, bin_dir=tmp_path)
    assert path and shim.MARKER in path.read_text() and "DOCKER_BUILDKIT" in path.read_text()
    monkeypatch.setattr(shim, "choose_cli", lambda: Builder("buildx", "/usr/local/bin/docker"))
    monkeypatch.setattr(shim, "_works", lambda cmd: True)
    assert shim.install_docker_shim(log=lambda m: None, bin_dir=tmp_path) is None
    assert not (tmp_path / "docker").exists()
