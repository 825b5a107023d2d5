"""Do the archive reader and the layer figures equal dive's on archives written here (no engine needed)?"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import tarfile

import pytest

from helpers.archive.demo import DEMO_LAYERS, write_demo_archive, write_image_archive
from helpers.archive.reader import read_archive
from helpers.errors import CourseError, NotAnImageArchive
from helpers.layers.analysis import analyze_layers
from helpers.layers.ci_rules import evaluate_ci, load_ci_config, parse_bytes
from helpers.layers.dive import dive_json

BASE = [("etc", "dir", 0), ("etc/os-release", "file", 500), ("usr/bin", "dir", 0), ("usr/bin/tool", "file", 30_000)]
CASES = {
    "deleted-file": [BASE, [("big", "file", 200_000), ("small", "file", 10)], [("big", "whiteout", 0)]],
    "deleted-dir": [
        BASE,
        [("d", "dir", 0), ("d/sub", "dir", 0), ("d/sub/blob", "file", 250_000)],
        [("d", "whiteout", 0)],
    ],
    "overwritten": [BASE, [("o", "file", 90_000)], [("o", "file", 80_000)], [("usr/bin/tool", "file", 31_000)]],
    "opaque-dir": [
        BASE,
        [("q", "dir", 0), ("q/a", "file", 70_000), ("q/b", "file", 5)],
        [("q", "dir", 0), ("q", "opaque", 0), ("q/c", "file", 7)],
    ],
    "symlinks": [
        BASE,
        [("t", "file", 5000), ("s", "symlink", "/t"), ("dangling", "symlink", "/nowhere")],
        [("s", "whiteout", 0), ("s", "symlink", "/etc/os-release"), ("t", "whiteout", 0)],
    ],
    "hard-links": [
        BASE,
        [("h1", "file", 70_000), ("h2", "hardlink", "h1"), ("h3", "hardlink", "h1")],
        [("h1", "whiteout", 0)],
        [("h2", "file", 10)],
    ],
    "whiteout-of-unknown-path": [BASE, [("x", "file", 100)], [("never-existed", "whiteout", 0), ("x", "file", 50)]],
    "single-layer": [BASE],
}


def _same(ours, theirs):
    img = theirs["image"]
    assert ours.size_bytes == img["sizeBytes"]
    assert ours.wasted_bytes == img["inefficientBytes"]
    assert abs(ours.efficiency - img["efficiencyScore"]) <= 1e-9
    assert [x.size_bytes for x in ours.layers] == [x["sizeBytes"] for x in theirs["layer"]]
    assert sorted(ours.inefficient_files) == sorted(
        (f["file"], f["count"], f["sizeBytes"]) for f in img["fileReference"] or []
    )


@pytest.mark.parametrize("layout,gz", [("docker", False), ("oci", False), ("oci", True)])
@pytest.mark.parametrize("case", sorted(CASES))
def test_figures_equal_dive(tmp_path, case, layout, gz):
    """Are size, wasted bytes, efficiency, layer sizes and inefficient files equal to dive's on the same archive?"""
    path = write_image_archive(tmp_path / "img.tar", CASES[case], layout=layout, gzip_layers=gz)
    _same(analyze_layers(str(path)), dive_json(str(path), archive=True))


def test_oci_layout_without_manifest_json(tmp_path):
    """Does a pure OCI layout (index.json only, gzip blobs) give the same figures as the docker layout?"""
    layers = CASES["opaque-dir"]
    a = analyze_layers(str(write_image_archive(tmp_path / "a.tar", layers, layout="oci-only", gzip_layers=True)))
    b = analyze_layers(str(write_image_archive(tmp_path / "b.tar", layers, layout="docker")))
    assert (a.size_bytes, a.wasted_bytes, a.efficiency, a.true_wasted_bytes) == (
        b.size_bytes,
        b.wasted_bytes,
        b.efficiency,
        b.true_wasted_bytes,
    )
    assert a.tags == ["course/demo:latest"]


def test_dive_misses_deleted_directory_but_true_figures_do_not(tmp_path):
    """Does dive score a deleted directory as efficiency 1.0, while the true figures count its bytes?"""
    a = analyze_layers(str(write_image_archive(tmp_path / "i.tar", CASES["deleted-dir"])))
    assert a.efficiency == 1.0 and a.wasted_bytes == 0
    assert a.true_wasted_bytes == 250_000
    assert a.wasted_frame().iloc[0]["reason"] == "deleted"
    o = analyze_layers(str(write_image_archive(tmp_path / "o.tar", CASES["opaque-dir"])))
    assert o.true_wasted_bytes == 70_005
    assert set(o.wasted_frame()["reason"]) == {"hidden by opaque directory"}


def test_hard_links_keep_bytes_alive(tmp_path):
    """When a hard-linked file is deleted or replaced but another link stays, are its bytes not counted as waste?"""
    a = analyze_layers(str(write_image_archive(tmp_path / "h.tar", CASES["hard-links"])))
    assert a.true_wasted_bytes == 0
    assert ("/h3", 2 - 1, 70_000) in a.visible
    gone = [BASE, [("d", "dir", 0), ("d/h1", "file", 5_000), ("d/h2", "hardlink", "d/h1")], [("d", "whiteout", 0)]]
    assert analyze_layers(str(write_image_archive(tmp_path / "g.tar", gone))).true_wasted_bytes == 5_000


def test_demo_archive_is_tiny_and_wasteful(tmp_path):
    """Is the no-engine demo archive under 2 MB, with true waste well above dive's?"""
    path = write_demo_archive(tmp_path / "demo.tar")
    assert path.stat().st_size < 2_000_000
    a = analyze_layers(str(path))
    assert len(a.layers) == len(DEMO_LAYERS)
    assert a.true_wasted_bytes > 2 * a.wasted_bytes > 0
    assert a.layers[1].command == "pip install -r requirements.txt" or "pip install" in a.layers[1].command
    assert set(a.changes_frame(2)["change"]) == {"removed"}
    assert a.top_dirs_frame()["size_bytes"].sum() == a.size_bytes - a.true_wasted_bytes


def test_single_layer_user_wasted_is_nan_like_go(tmp_path):
    """With no user layers, is the user wasted percent 0/0 = NaN (as Go computes it), and JSON-safe?"""
    a = analyze_layers(str(write_image_archive(tmp_path / "i.tar", CASES["single-layer"])))
    assert math.isnan(a.user_wasted_percent)
    assert json.loads(json.dumps(a.to_dict()))["user_wasted_percent"] is None


def _write(path, data):
    path.write_bytes(data)
    return path


def _tar_with(tmp_path, files):
    p = tmp_path / "x.tar"
    with tarfile.open(p, "w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return p


@pytest.mark.parametrize(
    "maker",
    [
        lambda p: _write(p / "text.tar", b"hello, not a tar\n" * 100),
        lambda p: _write(p / "empty.tar", b""),
        lambda p: _write(p / "noise.tar", bytes(range(256)) * 8),
        lambda p: _tar_with(p, {"readme.txt": b"just a tar"}),
        lambda p: _tar_with(p, {"manifest.json": b'[{"Config": "c.json", "Layers": ["l/layer.tar"]}]'}),
        lambda p: _tar_with(p, {"manifest.json": b"[]"}),
        lambda p: p / "missing.tar",
    ],
)
def test_not_an_image_archive(tmp_path, maker):
    """Do files that are not image archives give NotAnImageArchive, never a library traceback?"""
    with pytest.raises(NotAnImageArchive):
        read_archive(maker(tmp_path))


def test_truncated_archive(tmp_path):
    """Does a truncated archive give NotAnImageArchive?"""
    full = write_demo_archive(tmp_path / "demo.tar").read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(full[: len(full) // 2 + 100])
    with pytest.raises(NotAnImageArchive):
        read_archive(cut)


def test_ci_rules_defaults_file_and_flags(tmp_path):
    """Do dive's CI defaults, a .dive-ci file and flags combine the way dive does, and fail the demo image?"""
    a = analyze_layers(str(write_demo_archive(tmp_path / "demo.tar")))
    result = evaluate_ci(a)
    assert not result.passed
    assert {r.rule: r.status for r in result.rules} == {
        "lowestEfficiency": "FAIL",
        "highestWastedBytes": "SKIP",
        "highestUserWastedPercent": "FAIL",
    }
    cfg = tmp_path / ".dive-ci"
    cfg.write_text("rules:\n  lowestEfficiency: 0.5\n  highestUserWastedPercent: disabled\n  highestWastedBytes: 1MB\n")
    assert evaluate_ci(a, config_file=cfg).passed
    assert not evaluate_ci(a, {"highestWastedBytes": "100kB"}, cfg).passed
    assert parse_bytes("20MB") == 20_000_000 and parse_bytes("1.5 KiB") == 1536 and parse_bytes("1024") == 1024
    cfg.write_text("rules:\n  lowestEfficency: 0.5\n")
    with pytest.raises(CourseError):
        load_ci_config(cfg)


def test_cli_json_and_ci(tmp_path):
    """Does the CLI print the contract's JSON keys, and exit 1 with --ci on a failing image?"""
    path = write_demo_archive(tmp_path / "demo.tar")
    run = lambda *a: subprocess.run(
        [sys.executable, "-m", "helpers", "layers", str(path), *a],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    out = json.loads(run("--json").stdout)
    assert {"size_bytes", "wasted_bytes", "efficiency", "user_wasted_percent", "layers"} <= set(out)
    assert {"index", "size_bytes", "command"} <= set(out["layers"][0])
    assert run("--ci").returncode == 1
    assert run("--ci", "--lowestEfficiency", "0.5", "--highestUserWastedPercent", "0.9").returncode == 0
    (tmp_path / ".dive-ci").write_text("rules:\n  lowestEfficiency: 0.5\n  highestUserWastedPercent: 0.9\n")
    assert run("--ci").returncode == 0
    bad = run(str(tmp_path / "nothing.tar"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("rules: &r\n  lowestEfficiency: 0.5\nother: *r\n", "anchor or alias"),
        ("rules:\n  lowestEfficiency: 0.5\n" + "#" * (17 << 10) + "\n", "larger than"),
        ("rules: [" * 100 + "]" * 100, "nests deeper"),
    ],
)
def test_ci_config_is_read_within_bounds(tmp_path, text, why):
    """Is a `.dive-ci` with an alias, past the size cap or nested too deep refused as a CourseError naming why?"""
    cfg = tmp_path / ".dive-ci"
    cfg.write_text(text)
    with pytest.raises(CourseError, match=why):
        load_ci_config(cfg)


def test_parse_bytes_allows_blanks_around_the_unit():
    """Are blanks around the number and the unit accepted, and a trailing word refused?"""
    assert parse_bytes("  20 MB \n") == 20_000_000 and parse_bytes("1,024") == 1024
    with pytest.raises(ValueError):
        parse_bytes("1 MB x")
