"""Does the overlay2 fast path list what the engine's layer tar would hold, and step aside when it cannot?"""

from __future__ import annotations

import os

from helpers.archive.overlay import overlay_entries, read_overlay_image


def test_entries_of_a_diff_directory(tmp_path):
    """Are directories, files, symlinks and a second link to an inode listed like the engine's tar lists them?"""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.bin").write_bytes(b"x" * 1000)
    os.link(tmp_path / "app" / "a.bin", tmp_path / "app" / "b.bin")
    os.symlink("a.bin", tmp_path / "app" / "current")
    os.mkfifo(tmp_path / "pipe")
    entries = overlay_entries(str(tmp_path))
    assert entries == [
        ("app", 0, "5", ""),
        ("app/a.bin", 1000, "0", ""),
        ("app/b.bin", 0, "1", "app/a.bin"),
        ("app/current", 0, "2", "a.bin"),
        ("pipe", 0, "6", ""),
    ]


class _FakeApi:
    def __init__(self, info):
        self.info = info

    def inspect_image(self, _ref):
        return self.info


class _FakeClient:
    def __init__(self, info):
        self.api = _FakeApi(info)

    def info(self):
        return {"DockerRootDir": "/nonexistent"}


def test_falls_back_when_not_possible(tmp_path):
    """Does it return None (so the caller streams `docker save`) for other drivers or unreadable folders?"""
    other = {"GraphDriver": {"Name": "vfs", "Data": {}}, "RootFS": {"Layers": ["sha256:a"]}, "Id": "sha256:1"}
    assert read_overlay_image("x", _FakeClient(other)) is None
    missing = {
        "GraphDriver": {"Name": "overlay2", "Data": {"UpperDir": str(tmp_path / "nope")}},
        "RootFS": {"Layers": ["sha256:a"]},
        "Id": "sha256:1",
    }
    assert read_overlay_image("x", _FakeClient(missing)) is None
    (tmp_path / "diff").mkdir()
    no_config = {
        "GraphDriver": {"Name": "overlay2", "Data": {"UpperDir": str(tmp_path / "diff")}},
        "RootFS": {"Layers": ["sha256:a"]},
        "Id": "sha256:1",
    }
    assert read_overlay_image("x", _FakeClient(no_config)) is None
