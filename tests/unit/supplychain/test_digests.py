"""Digests and image facts computed from image archives, without an engine."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from helpers.archive.demo import write_image_archive
from helpers.errors import NotAnImageArchive
from helpers.images.inspect import facts_from_archive
from helpers.supplychain.digests import OCI_LAYER, OCI_LAYER_GZIP, archive_digests, oci_manifest

LAYERS = [
    [("etc", "dir", 0), ("etc/os-release", "file", 300)],
    [("app", "dir", 0), ("app/main.py", "file", 4_000), ("app/data.bin", "file", 20_000)],
]


def _config_bytes(path) -> bytes:
    with tarfile.open(path) as tar:
        entry = json.loads(tar.extractfile("manifest.json").read())[0]
        return tar.extractfile(entry["Config"]).read()


@pytest.mark.parametrize("layout,gz", [("docker", False), ("oci", False), ("oci", True)])
def test_digests_of_an_archive(tmp_path, layout, gz):
    """Are the config digest, the layer digests and the manifest digest the hashes of the right bytes?"""
    path = write_image_archive(tmp_path / "img.tar", LAYERS, layout=layout, gzip_layers=gz)
    d = archive_digests(path)
    config = _config_bytes(path)
    assert d.image_id == "sha256:" + hashlib.sha256(config).hexdigest()
    assert [x.digest for x in d.layers] == json.loads(config)["rootfs"]["diff_ids"]
    assert d.verified and all(x.compressed == gz for x in d.layers)
    assert d.manifest_digest == "sha256:" + hashlib.sha256(d.manifest).hexdigest()
    manifest = json.loads(d.manifest)
    assert manifest["config"]["digest"] == d.image_id
    assert [x["digest"] for x in manifest["layers"]] == [x.blob_digest for x in d.layers]
    assert {x["mediaType"] for x in manifest["layers"]} == {OCI_LAYER_GZIP if gz else OCI_LAYER}
    assert (d.layers[0].blob_digest != d.layers[0].digest) == gz
    assert d.tags == ["course/demo:latest"]
    assert list(d.frame()["matches config"]) == [True, True]


def test_oci_layout_manifest_digest_is_the_one_in_the_archive(tmp_path):
    """For an OCI layout, is the computed manifest digest a valid manifest of the same config and blobs?"""
    path = write_image_archive(tmp_path / "img.tar", LAYERS, layout="oci", gzip_layers=True)
    d = archive_digests(path)
    with tarfile.open(path) as tar:
        index = json.loads(tar.extractfile("index.json").read())
        stored = json.loads(tar.extractfile("blobs/" + index["manifests"][0]["digest"].replace(":", "/")).read())
    ours = json.loads(d.manifest)
    assert ours["config"]["digest"] == stored["config"]["digest"]
    assert [(x["digest"], x["size"], x["mediaType"]) for x in ours["layers"]] == [
        (x["digest"], x["size"], x["mediaType"]) for x in stored["layers"]
    ]


def test_a_changed_layer_is_detected(tmp_path):
    """If one layer's bytes change but the config stays, does the check say which layer no longer matches?"""
    path = write_image_archive(tmp_path / "img.tar", LAYERS)
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(path) as src, tarfile.open(tampered, "w") as dst:
        entry = json.loads(src.extractfile("manifest.json").read())[0]
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None
            if m.name == entry["Layers"][1]:
                data = data.replace(b"\x00" * 8, b"\x01" * 8, 1)
            dst.addfile(m, None if data is None else io.BytesIO(data))
    d = archive_digests(tampered)
    assert not d.verified
    assert [x.matches for x in d.layers] == [True, False]
    assert d.manifest_digest != archive_digests(path).manifest_digest


def test_manifest_changes_with_any_layer():
    """Does the manifest digest change when one layer digest changes (what a signature relies on)?"""
    cfg = b'{"rootfs": {}}'
    a = oci_manifest(cfg, [("sha256:" + "a" * 64, 10)])
    b = oci_manifest(cfg, [("sha256:" + "b" * 64, 10)])
    assert hashlib.sha256(a).digest() != hashlib.sha256(b).digest()
    assert json.loads(a)["config"]["size"] == len(cfg)


def test_not_an_archive(tmp_path):
    """Is a missing file, a non-tar or an archive without its layer reported as NotAnImageArchive?"""
    with pytest.raises(NotAnImageArchive):
        archive_digests(tmp_path / "nothing.tar")
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(NotAnImageArchive):
        archive_digests(tmp_path / "junk.tar")
    broken = tmp_path / "broken.tar"
    with tarfile.open(broken, "w") as tar:
        data = json.dumps([{"Config": "c.json", "Layers": ["x/layer.tar"]}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(NotAnImageArchive):
        archive_digests(broken)


def test_facts_from_archive(tmp_path):
    """Do the facts read from an archive give the id, the layers with their sizes, and the config?"""
    path = write_image_archive(tmp_path / "img.tar", LAYERS, commands=["ADD rootfs /", "COPY app /app"])
    f = facts_from_archive(path)
    assert f.id == "sha256:" + hashlib.sha256(_config_bytes(path)).hexdigest()
    assert f.ref == "course/demo:latest" and f.fs_layers == 2
    assert [(x.created_by, x.size) for x in f.layers] == [("ADD rootfs /", 300), ("COPY app /app", 24_000)]
    assert f.size == 24_300 and f.cmd == ["python"] and f.runs_as_root
    assert facts_from_archive(path, ref="mine").ref == "mine"
