"""Bill of materials from an image archive built here, layer by layer."""

import io
import json
import tarfile

import pytest

from helpers.errors import NotAnImageArchive
from helpers.supplychain.pkgdb import parse_apk_installed, parse_dpkg_status
from helpers.supplychain.sbom import read_sbom_archive

STATUS_1 = """Package: libc6
Status: install ok installed
Version: 2.36-9+deb12u4
Source: glibc

Package: libpam0g
Status: install ok installed
Version: 1.5.2-6+deb12u2
Source: pam
Description: PAM
 long description line
"""
STATUS_2 = (
    STATUS_1.replace("1.5.2-6+deb12u2", "1.5.2-6+deb12u3")
    + """
Package: curl
Status: install ok installed
Version: 7.88.1-10+deb12u5

Package: removed-one
Status: deinstall ok config-files
Version: 1.0
"""
)


def _layer(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_archive(path, layers, history):
    config = {
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{i:064x}" for i in range(len(layers))]},
        "history": [{"created_by": h} for h in history],
    }
    with tarfile.open(path, "w") as t:

        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))

        add("config.json", json.dumps(config).encode())
        names = []
        for i, files in enumerate(layers):
            names.append(f"l{i}/layer.tar")
            add(names[-1], _layer(files))
        add("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["t:1"], "Layers": names}]).encode())
    return path


@pytest.fixture
def archive(tmp_path):
    return make_archive(
        tmp_path / "img.tar",
        [
            {"etc/os-release": 'ID=debian\nVERSION_ID="12"\n', "var/lib/dpkg/status": STATUS_1},
            {
                "usr/lib/python3/dist-packages/idna-3.6.dist-info/METADATA": "Name: idna\nVersion: 3.6\n",
                "usr/lib/python3/dist-packages/old-1.0.dist-info/METADATA": "Name: old\nVersion: 1.0\n",
                "usr/lib/python3/dist-packages/legacy-0.1.egg-info/PKG-INFO": "Name: legacy\nVersion: 0.1\n",
            },
            {
                "var/lib/dpkg/status": STATUS_2,
                "usr/lib/python3/dist-packages/.wh.old-1.0.dist-info": "",
                "var/lib/dpkg/status.d/distroless": "Package: tzdata\nVersion: 2024a-0+deb12u1\n",
            },
        ],
        ["ADD rootfs /", "RUN pip install idna==3.6", "RUN apt-get upgrade"],
    )


def test_layers_and_os(archive):
    """Are the layers listed with their instructions and the OS read from os-release?"""
    bom = read_sbom_archive(archive)
    assert [layer.created_by for layer in bom.layers] == [
        "ADD rootfs /",
        "RUN pip install idna==3.6",
        "RUN apt-get upgrade",
    ]
    assert bom.os_ecosystem == "Debian:12"


def test_each_package_has_the_layer_that_added_its_version(archive):
    """Is an upgraded package attributed to the upgrading layer, and an untouched one to the first?"""
    by_name = {p.name: p for p in read_sbom_archive(archive).packages}
    assert by_name["libc6"].layer == 0
    assert by_name["libpam0g"].version == "1.5.2-6+deb12u3" and by_name["libpam0g"].layer == 2
    assert by_name["libpam0g"].source == "pam"
    assert by_name["curl"].layer == 2 and by_name["curl"].source == "curl"
    assert by_name["idna"].type == "pypi" and by_name["idna"].layer == 1
    assert by_name["legacy"].version == "0.1"
    assert by_name["tzdata"].layer == 2


def test_whiteouts_and_deinstalled_packages_are_gone(archive):
    """Does a whiteout remove a dist from the bill, and a deinstalled dpkg entry stay out?"""
    names = {p.name for p in read_sbom_archive(archive).packages}
    assert "old" not in names and "removed-one" not in names


def test_cyclonedx_output(archive):
    """Is the CycloneDX JSON valid JSON with one component per package and purls?"""
    bom = read_sbom_archive(archive)
    doc = json.loads(bom.to_cyclonedx())
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    purls = {c["purl"] for c in doc["components"]}
    assert "pkg:pypi/idna@3.6" in purls and "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?distro=debian-12" in purls
    assert len(doc["components"]) == len(bom.packages)


def test_not_an_archive(tmp_path):
    """Is a file that is not an image archive refused with one clear error?"""
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(NotAnImageArchive, match="notes.txt"):
        read_sbom_archive(bad)
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w"):
        pass
    with pytest.raises(NotAnImageArchive, match="manifest.json"):
        read_sbom_archive(plain)


def test_parsers():
    """Do the dpkg and apk parsers keep installed packages with their source?"""
    assert [(s["Package"], s["_source"]) for s in parse_dpkg_status(STATUS_2)] == [
        ("libc6", "glibc"),
        ("libpam0g", "pam"),
        ("curl", "curl"),
    ]
    assert parse_dpkg_status("Package: x\nSource: y (1.2-3)\nVersion: 1.2-3+b1\n")[0]["_source_version"] == "1.2-3"
    apk = parse_apk_installed("P:musl\nV:1.2.4-r2\no:musl\n\nP:busybox\nV:1.36.1-r5\n")
    assert [(a["P"], a["V"]) for a in apk] == [("musl", "1.2.4-r2"), ("busybox", "1.36.1-r5")]
