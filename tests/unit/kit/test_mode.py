"""helpers.kit.mode (engine / prebuilt / none, the skip log and report) and the archive readers the
lessons use without an engine (helpers.archive.images, helpers.images.inspect.facts_from_archive)."""

from __future__ import annotations

import json

import pytest

import helpers.kit.mode
from helpers.archive.demo import write_image_archive
from helpers.archive.images import archive_layers, files_present, files_table, shared_layers, sharing_summary
from helpers.images.inspect import compare_images, facts_from_archive
from helpers.kit.mode import MODE_LOG_ENV, course_mode
from helpers.kit.prebuilt import MANIFEST

BASE = [
    ("etc", "dir", 0),
    ("etc/os-release", "file", 300),
    ("usr", "dir", 0),
    ("usr/bin", "dir", 0),
    ("usr/bin/python3", "file", 4_000),
]
TOOLS = [("usr/bin/gcc", "file", 9_000), ("usr/include/python3.11/Python.h", "file", 100)]
APP = [("app", "dir", 0), ("app/app.py", "file", 500)]


def _archive(path, layers, commands=()):
    return write_image_archive(path, layers, commands=commands, tag=f"course-test/{path.stem}:1")


def _prebuilt(folder, names=("python-slim",)):
    """A prebuilt folder as `make prebuilt` writes it, with small made-up archives."""
    folder.mkdir(exist_ok=True)
    images = []
    for name in names:
        tar = _archive(folder / f"{name}.tar", [BASE, APP])
        images.append(
            {
                "name": name,
                "ref": f"course-test/{name}:1",
                "archive": tar.name,
                "bytes": tar.stat().st_size,
                "sha256": "0" * 64,
                "image_id": "sha256:x",
                "layers": 2,
            }
        )
    (folder / MANIFEST).write_text(json.dumps({"created": "2026-01-01T00:00:00Z", "images": images}))
    return folder


@pytest.fixture
def no_engine(monkeypatch, tmp_path):
    monkeypatch.setattr(helpers.kit.mode, "engine_available", lambda client=None: False)
    monkeypatch.setenv(MODE_LOG_ENV, str(tmp_path / "log.jsonl"))
    return tmp_path / "log.jsonl"


def _events(log):
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_engine_mode_skips_nothing(monkeypatch, capsys):
    """With an engine, does every cell run (needs_engine True) and the report say so?"""
    monkeypatch.setattr(helpers.kit.mode, "engine_available", lambda client=None: True)
    mode = course_mode()
    assert mode.name == "engine" and mode.needs_engine("build something")
    mode.report()
    out = capsys.readouterr().out
    assert "Docker Engine: ready." in out and "Everything in this notebook ran against the Docker Engine." in out


def test_prebuilt_mode_reads_archives_and_logs_them(no_engine, tmp_path, monkeypatch, capsys):
    """Without an engine but with prebuilt archives, are archives found, skips recorded, and both logged and
    reported?
    """
    monkeypatch.setenv("COURSE_PREBUILT", str(_prebuilt(tmp_path / "prebuilt", ("python-slim", "sample-naive"))))
    mode = course_mode()
    assert mode.name == "prebuilt" and mode.archives == ("python-slim", "sample-naive")
    path = mode.archive("python-slim", "its files")
    assert path is not None and path.name == "python-slim.tar"
    assert mode.image("sample-naive") == str(tmp_path / "prebuilt" / "sample-naive.tar")
    assert mode.archive("layers-lean", "the lean image") is None  # not exported
    assert not mode.needs_engine("run a container")
    mode.report()
    out = capsys.readouterr().out
    assert "Using the prebuilt archives" in out
    assert "Read from prebuilt archives" in out and "python-slim, sample-naive" in out
    assert "  - run a container" in out and "  - the lean image (archive layers-lean)" in out
    events = _events(no_engine)
    assert [e["event"] for e in events] == ["start", "archive", "archive", "missing", "skip", "report"]
    assert {e["mode"] for e in events} == {"prebuilt"}
    assert events[-1]["used"] == ["python-slim", "sample-naive"] and events[-1]["skipped"] == ["run a container"]


def test_none_mode_skips_and_says_where_to_get_archives(no_engine, tmp_path, monkeypatch, capsys):
    """With neither engine nor archives, does an archive request return None with advice, and nothing raise?"""
    monkeypatch.setenv("COURSE_PREBUILT", str(tmp_path / "nothing-here"))
    mode = course_mode()
    assert mode.name == "none" and mode.prebuilt is None
    assert mode.archive("python-slim", "its files") is None
    assert not mode.needs_engine("run a container") and not mode.needs_engine("run a container")
    mode.report()
    out = capsys.readouterr().out
    assert "no prebuilt archives" in out and "ask your instructor for the prebuilt/ folder" in out
    assert out.count("  - run a container") == 1, "a skip repeated in several cells is reported once"
    events = _events(no_engine)
    assert [e["event"] for e in events] == ["start", "missing", "skip", "skip", "report"]
    assert events[-1]["missing"] == ["its files (archive python-slim)"]


def test_report_says_nothing_was_skipped(no_engine, tmp_path, monkeypatch, capsys):
    """When a notebook only read archives, does the report say nothing was skipped (and not advise a Codespace)?"""
    monkeypatch.setenv("COURSE_PREBUILT", str(_prebuilt(tmp_path / "prebuilt")))
    mode = course_mode(announce=False)
    mode.archive("python-slim")
    mode.report()
    out = capsys.readouterr().out
    assert "Nothing was skipped." in out and "Codespace" not in out


def test_facts_and_layers_from_an_archive(tmp_path):
    """Are size, layer count, command and the per-instruction layer table read from an archive alone?"""
    tar = _archive(tmp_path / "img.tar", [BASE, APP], commands=["", "COPY app /app"])
    facts = facts_from_archive(tar)
    assert facts.ref == "course-test/img:1" and facts.cmd == ["python"]
    assert facts.fs_layers == 2 and facts.size == 300 + 4_000 + 500
    table = archive_layers(tar)
    assert list(table.instruction) == ["(base filesystem, imported)", "COPY app /app"]
    assert list(table["size"]) == [4_300, 500]
    assert compare_images({"img": str(tar)}).loc["img", "layers"] == 2


def test_files_present_applies_whiteouts(tmp_path):
    """Is a tool found only when its file is in the final image (a whiteout in a later layer hides it)?"""
    full = _archive(tmp_path / "full.tar", [BASE, TOOLS])
    removed = _archive(tmp_path / "removed.tar", [BASE, TOOLS, [("usr/bin/gcc", "whiteout", 0)]])
    assert files_present(full)["gcc"] and files_present(full)["Python.h (python3-dev)"]
    assert not files_present(removed)["gcc"] and files_present(removed)["Python.h (python3-dev)"]
    table = files_table({"full": str(full), "removed": str(removed)})
    assert table.set_index("tool").loc["gcc"].tolist() == [True, False]


def test_shared_layers_count_a_common_base_once(tmp_path):
    """Do two images on the same base share its layer, and is it counted once in what they occupy?"""
    a = _archive(tmp_path / "a.tar", [BASE, APP])
    b = _archive(tmp_path / "b.tar", [BASE, TOOLS])
    frame = shared_layers({"a": str(a), "b": str(b)})
    assert frame.iloc[0].shared_by == 2 and frame.iloc[0].images == "a, b" and frame.iloc[0]["size"] == 4_300
    total = sharing_summary(frame)
    assert total == {
        "each image alone": 2 * 4_300 + 500 + 9_100,
        "layers stored once": 4_300 + 500 + 9_100,
        "saved by sharing": 4_300,
    }


def test_lesson_sources_follow_the_mode(no_engine, tmp_path, monkeypatch):
    """Does notebook 10 read the layers-* archives in prebuilt mode, and the demo archive when they are missing?"""
    from helpers.layers.lesson import demo_archive_path, lesson_sources

    monkeypatch.setenv("COURSE_PREBUILT", str(_prebuilt(tmp_path / "prebuilt", ("layers-wasteful", "layers-lean"))))
    sources, how = lesson_sources(mode=course_mode(announce=False))
    assert how == "prebuilt" and sources["lean"].endswith("layers-lean.tar")
    monkeypatch.setenv("COURSE_PREBUILT", str(_prebuilt(tmp_path / "partial", ("layers-wasteful",))))
    mode = course_mode(announce=False)
    sources, how = lesson_sources(mode=mode)
    assert (how, sources) == ("demo", {"wasteful": str(demo_archive_path())})
    assert mode.missing == ["the lesson's lean image (archive layers-lean)"]
