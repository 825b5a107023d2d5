"""Does the layer analysis equal `dive --json`, from the engine and from a `docker save` archive?"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from helpers.archive.reader import read_archive, read_engine_image
from helpers.engine.baseimages import base_image
from helpers.errors import ImageNotFound
from helpers.images.build import build
from helpers.layers.analysis import analyze_archive, analyze_layers
from helpers.layers.dive import dive_json

pytestmark = pytest.mark.engine

HEAD = "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\n"
CASES = {
    "deleted-files": "RUN head -c 300000 /dev/urandom > /f1 && head -c 1000 /dev/urandom > /f2\nRUN rm /f1\n",
    "deleted-dirs": "RUN mkdir -p /d/sub && head -c 2500000 /dev/urandom > /d/sub/blob && echo x > /d/small\n"
    "RUN rm -rf /d\n",
    "overwritten": "RUN head -c 200000 /dev/urandom > /o\nRUN head -c 150000 /dev/urandom > /o\n"
    "RUN rm -rf /usr/share/doc/apt\n",
    "opaque-dirs": "RUN mkdir /opq && head -c 100000 /dev/urandom > /opq/a && echo b > /opq/b\n"
    "RUN rm -rf /opq && mkdir /opq && echo new > /opq/c\n",
    "symlinks": "RUN head -c 50000 /dev/urandom > /t && ln -s /t /s && ln -s /nowhere /dangling\n"
    "RUN rm /s && ln -s /etc/hostname /s && rm /t\n",
    "hard-links": "RUN head -c 70000 /dev/urandom > /h1 && ln /h1 /h2 && ln /h1 /h3\nRUN rm /h1\n"
    "RUN head -c 10 /dev/urandom > /h2\n",
}


@pytest.fixture(params=sorted(CASES))
def case_image(request, engine, tmp_path):
    tag = f"course-test/layers-{request.param}:{uuid.uuid4().hex[:8]}"
    build(
        tmp_path,
        dockerfile_text=HEAD + CASES[request.param],
        tags=[tag],
        build_args={"BASE_IMAGE": base_image("debian")},
    )
    archive = tmp_path / "image.tar"
    try:
        subprocess.run(["docker", "save", tag, "-o", str(archive)], check=True, capture_output=True)
        yield request.param, tag, archive
    finally:
        engine.images.remove(tag, force=True)


def _same(ours, theirs):
    img = theirs["image"]
    assert ours.size_bytes == img["sizeBytes"]
    assert ours.wasted_bytes == img["inefficientBytes"]
    assert abs(ours.efficiency - img["efficiencyScore"]) <= 1e-9
    assert [(x.index, x.size_bytes) for x in ours.layers] == [(x["index"], x["sizeBytes"]) for x in theirs["layer"]]
    assert sorted((p, c, s) for p, c, s in ours.inefficient_files) == sorted(
        (f["file"], f["count"], f["sizeBytes"]) for f in img["fileReference"] or []
    )


def test_engine_and_archive_equal_dive(case_image):
    """Do size, wasted bytes, efficiency and layer sizes equal dive's, from the engine and from the archive?"""
    name, tag, archive = case_image
    from_engine = dive_json(tag)
    _same(analyze_layers(tag), from_engine)  # overlay2 fast path where readable
    _same(analyze_archive(read_engine_image(tag)), from_engine)  # docker save stream
    _same(analyze_layers(str(archive)), dive_json(str(archive), archive=True))
    if name in ("deleted-dirs", "opaque-dirs"):
        a = analyze_layers(str(archive))
        assert a.true_wasted_bytes > a.wasted_bytes  # dive misses the deleted directory's bytes
    if name == "opaque-dirs":  # the case really carries an opaque whiteout
        names = [e[0] for layer in read_archive(archive).layers for e in layer.entries]
        assert any(n.endswith(".wh..wh..opq") for n in names)


def test_missing_image_is_a_clear_error(engine):
    """Does a missing image give ImageNotFound, not a docker-py traceback?"""
    with pytest.raises(ImageNotFound):
        analyze_layers(f"course-test/does-not-exist:{uuid.uuid4().hex[:6]}")


def test_cli_ci_fails_on_wasteful_image(engine, tmp_path):
    """Does `layers --ci` exit 1 on a wasteful image and 0 when the rules are disabled?"""
    tag = f"course-test/layers-ci:{uuid.uuid4().hex[:8]}"
    build(
        tmp_path,
        dockerfile_text=HEAD + CASES["deleted-files"],
        tags=[tag],
        build_args={"BASE_IMAGE": base_image("debian")},
    )
    try:
        _cli_checks(tag)
    finally:
        engine.images.remove(tag, force=True)


def _cli_checks(tag):
    run = lambda *a: subprocess.run(
        [sys.executable, "-m", "helpers", "layers", tag, "--ci", *a],
        capture_output=True,
        text=True,
    )
    failing = run()
    assert failing.returncode == 1, failing.stdout
    assert "FAIL: highestUserWastedPercent" in failing.stdout
    assert run("--lowestEfficiency", "disabled", "--highestUserWastedPercent", "disabled").returncode == 0
