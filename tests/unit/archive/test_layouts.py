"""Does every reader of image archives accept each layout and read the same image from it (no engine needed)?

One small image is written in four layouts: legacy ``docker save`` (manifest.json + <id>/layer.tar),
``docker save`` 25+ (OCI blobs + index.json + manifest.json, gzip layers), an OCI layout with
only index.json (as skopeo writes), and the same with gzip layers. The layer analysis, the bill
of materials, the secret search, the digests and the image facts must all read it, and agree.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from helpers.archive.demo import write_image_archive
from helpers.archive.images import visible_files
from helpers.archive.reader import read_archive
from helpers.images.inspect import facts_from_archive
from helpers.layers.analysis import analyze_archive, analyze_layers
from helpers.supplychain.digests import archive_digests
from helpers.supplychain.sbom import read_sbom_archive
from helpers.supplychain.secrets import find_secret_in_image
from unit.layers.test_analysis import BASE, CASES
from unit.supplychain.test_sbom import STATUS_1, STATUS_2

TOKEN = "tok-" + "5" * 24
SITE = "usr/lib/python3/dist-packages"
LAYERS = [
    [
        ("etc", "dir", 0),
        ("etc/os-release", "file", 'ID=debian\nVERSION_ID="12"\n'),
        ("var/lib/dpkg/status", "file", STATUS_1),
    ]
    + [spec for spec in BASE if spec[0] != "etc/os-release"],
    CASES["deleted-file"][1]
    + [
        (f"{SITE}/idna-3.6.dist-info/METADATA", "file", "Name: idna\nVersion: 3.6\n"),
        (f"{SITE}/old-1.0.dist-info/METADATA", "file", "Name: old\nVersion: 1.0\n"),
        ("srv/app.ini", "file", f"[index]\ntoken = {TOKEN}\n"),
        ("srv/current.ini", "hardlink", "srv/app.ini"),
    ],
    CASES["deleted-file"][2]
    + [("var/lib/dpkg/status", "file", STATUS_2), (f"{SITE}/old-1.0.dist-info", "whiteout", 0)],
]
COMMANDS = ["ADD rootfs /", "RUN pip install idna==3.6", "RUN apt-get upgrade && rm /big"]
LAYOUTS = {
    "docker-save": ("docker", False),
    "docker-save-oci": ("oci", True),
    "oci-index-only": ("oci-only", False),
    "oci-index-only-gzip": ("oci-only", True),
}


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """The same image in each layout: name -> path."""
    root = tmp_path_factory.mktemp("layouts")
    return {
        name: write_image_archive(root / f"{name}.tar", LAYERS, COMMANDS, layout=layout, gzip_layers=gz)
        for name, (layout, gz) in LAYOUTS.items()
    }


def _same_in_every_layout(archives, read):
    """``read(path)`` for every layout; asserts they are all equal and returns the value."""
    seen = {name: read(path) for name, path in archives.items()}
    first = seen["docker-save"]
    for name, value in seen.items():
        assert value == first, f"{name} differs from docker-save"
    return first


def test_the_reader_sees_the_same_image(archives):
    """Does the reader give the same config, tags, diff ids and layer entries in every layout, gzip noted?"""
    for name, path in archives.items():
        assert [x.compressed for x in read_archive(path).layers] == [LAYOUTS[name][1]] * 3

    def read(path):
        a = read_archive(path)
        return a.config, a.tags, a.image_id, [x.diff_id for x in a.layers], [x.entries for x in a.layers]

    config, tags, image_id, diff_ids, _entries = _same_in_every_layout(archives, read)
    assert tags == ["course/demo:latest"] and diff_ids == config["rootfs"]["diff_ids"]
    assert image_id == "sha256:" + hashlib.sha256(json.dumps(config).encode()).hexdigest()


def test_files_can_be_read_from_every_layer(archives):
    """Can a file's bytes be read back from a layer in every layout?"""

    def read(path):
        a = read_archive(path)
        return a.read_file(a.layers[0], "/etc/os-release"), a.read_file(a.layers[2], "var/lib/dpkg/status")

    assert _same_in_every_layout(archives, read) == (b'ID=debian\nVERSION_ID="12"\n', STATUS_2.encode())


def test_layer_analysis(archives):
    """Do the layer figures (size, waste, efficiency, per layer) agree across layouts?"""

    def read(path):
        both = []
        for result in (analyze_layers(str(path)), analyze_archive(read_archive(path))):
            figures = (result.size_bytes, result.wasted_bytes, result.efficiency, result.true_wasted_bytes)
            both.append((figures, [(x.size_bytes, x.diff_id, x.command) for x in result.layers]))
        assert both[0] == both[1]
        return *both[0], sorted(visible_files(read_archive(path)))

    figures, layers, visible = _same_in_every_layout(archives, read)
    assert [x[2] for x in layers] == COMMANDS and figures[1] > 0
    assert "big" not in visible and "srv/app.ini" in visible


def test_bill_of_materials(archives):
    """Does the SBOM list the same packages, attributed to the same layers, in every layout?"""

    def read(path):
        bom = read_sbom_archive(path)
        packages = sorted((p.name, p.version, p.type, p.layer, p.layer_digest) for p in bom.packages)
        return bom.os_ecosystem, [(x.digest, x.created_by) for x in bom.layers], packages

    ecosystem, layers, packages = _same_in_every_layout(archives, read)
    by_name = {p[0]: p for p in packages}
    assert ecosystem == "Debian:12" and [x[1] for x in layers] == COMMANDS
    assert by_name["libpam0g"][1:4] == ("1.5.2-6+deb12u3", "deb", 2) and by_name["idna"][2:4] == ("pypi", 1)
    assert "old" not in by_name and by_name["libc6"][4] == layers[0][0]


def test_secret_search(archives):
    """Does the secret search find the token in the same file of the same layer in every layout?"""

    def read(path):
        check = find_secret_in_image(path, TOKEN)
        return check.layers_checked, check.files_checked, sorted((x.where, x.path) for x in check.leaks)

    layers, files, leaks = _same_in_every_layout(archives, read)
    assert layers == 3 and leaks == [("layer 1", "srv/app.ini")]
    assert files == sum(1 for layer in LAYERS for spec in layer if spec[1] in ("file", "whiteout"))
    assert find_secret_in_image(archives["oci-index-only-gzip"], "not-in-there-anywhere").clean


def test_digests(archives):
    """Are the image ID and the layer digests the same in every layout, and verified against the config?"""
    for name, path in archives.items():
        d = archive_digests(path)
        assert d.verified and all(x.compressed == LAYOUTS[name][1] for x in d.layers)
        assert [x.blob_digest == x.digest for x in d.layers] == [not LAYOUTS[name][1]] * 3

    def read(path):
        d = archive_digests(path)
        return d.image_id, [x.digest for x in d.layers], d.tags

    image_id, digests, tags = _same_in_every_layout(archives, read)
    assert image_id == read_archive(archives["oci-index-only"]).image_id
    assert digests == read_archive(archives["oci-index-only"]).config["rootfs"]["diff_ids"]


def test_image_facts(archives):
    """Do the image facts (id, size, layers, command) agree across layouts, the id equal to the digest's?"""

    def read(path):
        f = facts_from_archive(path)
        return f.id, f.ref, f.size, f.fs_layers, [(x.created_by, x.size) for x in f.layers], f.cmd

    image_id, ref, size, fs_layers, layers, cmd = _same_in_every_layout(archives, read)
    assert image_id == archive_digests(archives["docker-save"]).image_id and image_id.startswith("sha256:")
    assert ref == "course/demo:latest" and fs_layers == 3 and cmd == ["python"]
    assert [x[0] for x in layers] == COMMANDS and size == sum(x[1] for x in layers) > 0


def test_a_streamed_archive_has_no_files_to_read(archives):
    """Is asking for a file of an archive that was streamed (no file on disk) a clear NotAnImageArchive?"""
    from helpers.archive.model import ImageArchive
    from helpers.errors import NotAnImageArchive

    a = read_archive(archives["docker-save"])
    streamed = ImageArchive(a.layers, a.config, a.tags, "docker://course/demo:latest", a.config_bytes)
    with pytest.raises(NotAnImageArchive, match="archive on disk"):
        streamed.read_file(streamed.layers[0], "etc/os-release")
