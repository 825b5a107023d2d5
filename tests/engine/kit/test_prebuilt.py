"""`make prebuilt`: course images exported as archives with a manifest, found again offline."""

from __future__ import annotations

import json
import tarfile
import uuid

import pytest

from helpers.images.build import build
from helpers.kit.prebuilt import PREBUILT_LABEL, course_images, export_images, find_archive


@pytest.mark.engine
def test_export_and_find_a_labelled_image(engine, tmp_path):
    """Is an image labelled for students exported, listed in the manifest and found by name offline?"""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "hello.txt").write_text("hello")
    ref = f"course-test/prebuilt-{uuid.uuid4().hex[:8]}:1.0"
    res = build(ctx, dockerfile_text="FROM scratch\nCOPY hello.txt /\n", tags=[ref], labels={PREBUILT_LABEL: "true"})
    try:
        assert ref in course_images(engine)
        manifest = export_images([ref], dest=tmp_path / "prebuilt", client=engine)
        item = manifest.images[0]
        assert item.ref == ref and item.image_id == res.image_id and item.layers >= 1
        path = find_archive(ref.split("/")[1].split(":")[0], tmp_path / "prebuilt", verify=True)
        with tarfile.open(path) as tar:
            inner = json.load(tar.extractfile("manifest.json"))
        assert ref in inner[0]["RepoTags"]
        saved = json.loads((tmp_path / "prebuilt" / "manifest.json").read_text())
        assert saved["images"][0]["sha256"] == item.sha256
    finally:
        engine.images.remove(ref, force=True)


@pytest.mark.engine
def test_cli_exports_named_catalog_images(engine, tmp_path):
    """Does `python -m helpers course prebuilt NAME --dest DIR` write archives that find_archive verifies by
    checksum?
    """
    import subprocess
    import sys

    from helpers.archive.images import archive_layers
    from helpers.images.inspect import facts_from_archive, inspect_image
    from helpers.lessons.caching import image_layers

    dest = tmp_path / "prebuilt"
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "course", "prebuilt", "layers-lean", "--dest", str(dest)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    path = find_archive("layers-lean", dest, verify=True)
    assert path == dest / "layers-lean.tar"
    assert [i.name for i in json_manifest(dest)] == ["layers-lean"]
    # the archive tells a student without an engine what the engine tells everyone else
    offline, live = facts_from_archive(path), inspect_image("course-lab/layers-lean:lesson", engine)
    assert offline.ref == "course-lab/layers-lean:lesson"
    assert (offline.fs_layers, offline.command, offline.user) == (live.fs_layers, live.command, live.user)
    assert abs(offline.size - live.size) < 0.01 * live.size
    assert list(archive_layers(path).instruction) == list(
        image_layers("course-lab/layers-lean:lesson", engine).instruction
    )


def json_manifest(dest):
    """The images the manifest in `dest` lists."""
    from helpers.kit.prebuilt import read_manifest

    return read_manifest(dest).images
