"""The Codespaces definition: valid against the dev container schema, and what students need is in it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tarfile

import jsonschema
import pytest
from kitroot import ROOT

SCHEMA = ROOT / "tests" / "fixtures" / "devcontainer" / "devContainer.base.schema.json"
CONFIG = ROOT / ".devcontainer" / "devcontainer.json"


def _validator():
    return jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text()))


def test_devcontainer_json_is_valid():
    """Does .devcontainer/devcontainer.json pass the dev container base schema?"""
    errors = list(_validator().iter_errors(json.loads(CONFIG.read_text())))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize(
    "bad", [{"forwardPorts": ["not a port"]}, {"image": 3}, {"waitFor": "never"}, {"hostRequirements": {"cpus": 0}}]
)
def test_schema_rejects_broken_configs(bad):
    """Can the vendored schema fail (so the test above means something)?"""
    config = {**json.loads(CONFIG.read_text()), **bad}
    assert list(_validator().iter_errors(config))


def test_devcontainer_gives_students_what_they_need():
    """Docker inside, the env installed on creation, the lab environment up on start, 8888 forwarded, the index open?"""
    cfg = json.loads(CONFIG.read_text())
    assert any("docker-in-docker" in f for f in cfg["features"])
    assert "make setup" in cfg["postCreateCommand"]
    # registry and base images once dind's engine answers (it starts in the background): a bounded wait first
    assert cfg["postStartCommand"] == "scripts/wait_for_engine.sh 180 && make env"
    assert (ROOT / "scripts" / "wait_for_engine.sh").is_file()
    assert cfg["postAttachCommand"] == "make lab"
    assert 8888 in cfg["forwardPorts"]
    assert "notebooks/00-index.ipynb" in cfg["customizations"]["codespaces"]["openFiles"]
    assert (CONFIG.parent / cfg["build"]["dockerfile"]).is_file()


def test_feature_and_image_majors_are_maintained():
    """docker-in-docker 4 (2 froze at 2.17; 3+ fixed dockerd with newer containerd) and images:3 with Python 3.12."""
    cfg = json.loads(CONFIG.read_text())
    ((feature, options),) = cfg["features"].items()
    m = re.fullmatch(r"ghcr\.io/devcontainers/features/docker-in-docker:(\d+)", feature)
    assert m and int(m.group(1)) >= 4
    image = cfg["build"]["args"]["BASE_IMAGE"]
    m = re.fullmatch(r"mcr\.microsoft\.com/devcontainers/python:(\d+)-3\.12-(trixie|bookworm)", image)
    assert m and int(m.group(1)) >= 3, image
    if m.group(2) == "trixie":  # Debian 13 has no moby packages: the feature refuses moby there
        assert options.get("moby") is False
    assert f"ARG BASE_IMAGE={image}" in (CONFIG.parent / "Dockerfile").read_text()


LOCK = CONFIG.parent / "tools.lock"


def _lock_rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_release_tools_are_pinned_with_checksums():
    """trivy (Lab 3) and cosign (notebook 20 says Codespaces has it), each arch, a SHA-256 and a versioned URL."""
    rows = _lock_rows(LOCK.read_text())
    assert {(r[0], r[1]) for r in rows} == {(t, a) for t in ("trivy", "cosign") for a in ("amd64", "arm64")}
    for name, _arch, sha, url, _member in rows:
        assert re.fullmatch(r"[0-9a-f]{64}", sha)
        assert url.startswith("https://github.com/") and name in url and re.search(r"/v\d+\.\d+\.\d+/", url), url
    assert len({r[2] for r in rows}) == len(rows)


def _arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()


def _fake_release(tmp_path, good: bool = True):
    """A lock naming a local trivy archive and cosign binary (file:// URLs), with right or wrong checksums."""
    script = tmp_path / "trivy"
    script.write_text("#!/bin/sh\necho 'Version: 0.0.0-test'\n")
    archive = tmp_path / "trivy.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(script, arcname="trivy")
    cosign = tmp_path / "cosign-bin"
    cosign.write_text("#!/bin/sh\necho cosign-test\n")
    sums = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (archive, cosign)}
    if not good:
        sums[cosign] = "0" * 64
    lock = tmp_path / "test.lock"
    lock.write_text(
        f"# test\ntrivy {_arch()} {sums[archive]} file://{archive} trivy\n"
        f"cosign {_arch()} {sums[cosign]} file://{cosign} -\nother nosucharch {'1' * 64} file:///nowhere -\n"
    )
    return lock


def _install(lock, dest):
    script = CONFIG.parent / "install-tools.sh"
    return subprocess.run(["sh", str(script), str(lock), str(dest)], capture_output=True, text=True, timeout=60)


def test_install_tools_installs_what_the_lock_pins(tmp_path):
    dest = tmp_path / "bin"
    dest.mkdir()
    out = _install(_fake_release(tmp_path), dest)
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["cosign", "trivy"]
    assert os.access(dest / "trivy", os.X_OK)
    assert "0.0.0-test" in subprocess.run([dest / "trivy"], capture_output=True, text=True).stdout


def test_install_tools_refuses_a_wrong_checksum(tmp_path):
    dest = tmp_path / "bin"
    dest.mkdir()
    out = _install(_fake_release(tmp_path, good=False), dest)
    assert out.returncode != 0
    assert "not the pinned" in out.stderr and "cosign" in out.stderr
    assert not (dest / "cosign").exists()


def _jupyter_config(env: dict[str, str]):
    class Section(dict):
        def __getattr__(self, k):
            return self.setdefault(k, Section())

        def __setattr__(self, k, v):
            self[k] = v

    c = Section()
    code = (CONFIG.parent / "jupyter_server_config.py").read_text()
    old = dict(os.environ)
    try:
        os.environ.update(env)
        exec(compile(code, "jupyter_server_config.py", "exec"), {"get_config": lambda: c})
    finally:
        os.environ.clear()
        os.environ.update(old)
    return c


def test_jupyter_accepts_the_codespaces_url_and_keeps_its_token():
    """The forwarded origin (any port) is allowed, others are not; nothing turns authentication off."""
    env = {"CODESPACE_NAME": "fuzzy-space-xyz", "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": "app.github.dev"}
    c = _jupyter_config(env)
    assert c.ServerApp.allow_remote_access is True
    pat = re.compile(c.ServerApp.allow_origin_pat)
    assert pat.fullmatch("https://fuzzy-space-xyz-8888.app.github.dev")
    assert pat.fullmatch("https://fuzzy-space-xyz-8889.app.github.dev")
    for bad in ("https://evil-8888.app.github.dev", "http://fuzzy-space-xyz-8888.app.github.dev", "https://x.example"):
        assert not pat.fullmatch(bad)
    code = (CONFIG.parent / "jupyter_server_config.py").read_text()
    assert not re.search(r"token\s*=|password\s*=|disable_check_xsrf|allow_origin\s*=\s*['\"]\*", code)
    assert "allow_origin_pat" not in _jupyter_config(
        {"CODESPACE_NAME": "", "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": ""}
    ).get("ServerApp", {})


def _wait(tmp_path, docker_exit: int, limit: str):
    fake = tmp_path / "docker"
    fake.write_text(f"#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit {docker_exit}\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    script = ROOT / "scripts" / "wait_for_engine.sh"
    return subprocess.run(["bash", str(script), limit], capture_output=True, text=True, env=env, timeout=30)


def test_wait_for_engine_returns_once_docker_answers(tmp_path):
    out = _wait(tmp_path, 0, "5")
    assert out.returncode == 0 and "answers" in out.stdout


def test_wait_for_engine_gives_up_with_a_clear_message(tmp_path):
    out = _wait(tmp_path, 1, "2")
    assert out.returncode == 1
    assert "did not answer within 2 s" in out.stderr and "make env" in out.stderr
