"""The grading engine's bounds: their settings, how they are set on a cgroup tree, and how a failure names them.

The failure texts are what real builds on the grading engine printed (2026-12-01, dockerd 20.10 with BuildKit).
"""

from __future__ import annotations

import json

import pytest

from helpers.grading import engine_bounds as eb
from helpers.grading import engine_env
from helpers.grading import limits as gl
from helpers.grading.limits import Bounds, GradingLimits, explain_failure, name_bound

BOUNDS = Bounds(memory_mb=2048, pids=512, disk_gb=20)

OOM = (
    'executor failed running [/bin/sh -c python3 -c "b = b\\"x\\" * (3 << 30)"]: exit code: 137\n'
    "-> Fix the failing step in your Dockerfile and build again."
)
FORK = (
    "#5 0.754 BlockingIOError: [Errno 11] Resource temporarily unavailable\n"
    "executor failed running [/bin/sh -c python3 -c ...]: exit code: 1"
)
SHELL_FORK = "/bin/sh: 1: Cannot fork"
FULL = "#5 0.338 fallocate: fallocate failed: No space left on device\nexecutor failed running: exit code: 1"
EXPORT_FULL = "failed to export image: write /var/lib/docker/overlay2/x/diff/big: no space left on device"
CONTAINER_OOM = "The container of lab1:abc stopped before it was ready (exit code 137)"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (OOM, "memory bound is 2048 MiB"),
        ("MemoryError", "memory bound is 2048 MiB"),
        ("OSError: [Errno 12] Cannot allocate memory", "memory bound is 2048 MiB"),
        (FORK, "process bound is 512 processes"),
        (SHELL_FORK, "process bound is 512 processes"),
        (FULL, "disk bound is 20 GB"),
        (EXPORT_FULL, "disk bound is 20 GB"),
    ],
)
def test_a_failure_that_hit_a_bound_names_it_with_its_number(text, names):
    """Does each way a build hits a bound (killed, no fork, full disk) come back as a sentence naming it?"""
    assert names in name_bound(text, BOUNDS)


def test_a_container_failure_names_its_own_limit_and_the_shared_one():
    said = name_bound(CONTAINER_OOM, BOUNDS, container_memory="256m", container_pids=128)
    assert "256m per container" in said and "2048 MiB" in said
    assert "128 processes per container" in name_bound(FORK, BOUNDS, container_pids=128)


@pytest.mark.parametrize(
    "text",
    [
        "executor failed running [/bin/sh -c pip install -r requirement.txt]: exit code: 1\n"
        "ERROR: Could not open requirements file: [Errno 2] No such file or directory",
        "The build ran past 300 s and was stopped.",
        "exit code: 1370",
        "",
    ],
)
def test_an_ordinary_failure_names_no_bound(text):
    """A wrong step, a timeout or an exit code that only starts with 137 is not blamed on a bound."""
    assert name_bound(text, BOUNDS) == ""


def test_no_bound_is_named_off_the_grading_engine_or_when_it_is_absent():
    assert name_bound(OOM, None) == ""
    assert name_bound(FULL, Bounds(2048, 512, 0)) == ""  # no disk bound here: not the kit's words
    assert name_bound(FORK, Bounds(2048, 0, 20)) == ""


def test_explain_failure_reads_the_running_engines_bounds_and_says_it_once(tmp_path, monkeypatch):
    BOUNDS.save(tmp_path)
    engine = engine_env.GradingEngine("unix:///run/course-grading-x/docker.sock", str(tmp_path), 5055)
    monkeypatch.setenv(engine_env.GRADING_ENV, engine_env.grading_engine_env(engine)[engine_env.GRADING_ENV])
    once = explain_failure(OOM)
    assert once.startswith(OOM) and once.endswith(
        "the memory bound is 2048 MiB for a submission's build steps and containers together."
    )
    assert explain_failure(once) == once
    assert explain_failure("exit code: 1") == "exit code: 1"
    monkeypatch.delenv(engine_env.GRADING_ENV)
    assert explain_failure(OOM) == OOM  # a student's own engine: none of the kit's bounds


def test_limits_come_from_the_environment_when_set_to_a_positive_number():
    assert GradingLimits.from_env({}) == GradingLimits()
    got = GradingLimits.from_env(
        {"COURSE_GRADING_MEMORY_MB": "512", "COURSE_GRADING_PIDS": "0", "COURSE_GRADING_DISK_GB": "x"}
    )
    assert got == GradingLimits(memory_mb=512, pids=GradingLimits().pids, disk_gb=GradingLimits().disk_gb)


def test_bounds_round_trip_and_a_bad_file_reads_as_none(tmp_path):
    b = Bounds(1024, 256, 8.5, ("disk bound: no loop device",))
    b.save(tmp_path)
    assert Bounds.load(tmp_path) == b
    assert "disk 8.5 GB" in b.summary() and "processes unbounded" in Bounds(1024, 0, 1).summary()
    (tmp_path / gl.BOUNDS_FILE).write_text(json.dumps({"memory_mb": "lots"}))
    assert Bounds.load(tmp_path) is None
    assert Bounds.load(tmp_path / "none") is None


def _v1_tree(root):
    for ctrl in ("memory", "pids"):
        (root / ctrl).mkdir(parents=True)
    return root


def test_cgroup_v1_gets_memory_without_swap_and_a_process_limit(tmp_path):
    """On cgroup v1 the memory, memory+swap and pids limits are written under the kit's cgroup."""
    root = _v1_tree(tmp_path)
    (root / "memory" / eb.CGROUP).mkdir()
    (root / "memory" / eb.CGROUP / "memory.memsw.limit_in_bytes").write_text("9223372036854771712\n")
    parent, memory, pids, absent = eb.cgroup_bounds(GradingLimits(memory_mb=100, pids=64), root)
    assert parent == f"/{eb.CGROUP}" and (memory, pids, absent) == (100, 64, [])
    cg = root / "memory" / eb.CGROUP
    assert (cg / "memory.limit_in_bytes").read_text().strip() == str(100 * 1024 * 1024)
    assert (cg / "memory.memsw.limit_in_bytes").read_text().strip() == str(100 * 1024 * 1024)
    assert (root / "pids" / eb.CGROUP / "pids.max").read_text().strip() == "64"


def test_a_missing_controller_is_an_absent_bound_with_its_reason(tmp_path):
    (tmp_path / "memory").mkdir()
    parent, memory, pids, absent = eb.cgroup_bounds(GradingLimits(memory_mb=100, pids=64), tmp_path)
    assert parent and memory == 100 and pids == 0
    assert absent == ["process bound: this host has no cgroup pids controller"]
    assert eb.cgroup_bounds(GradingLimits(), tmp_path / "nothing")[0] == ""


def test_cgroup_v2_enables_the_controllers_and_sets_max_values(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (tmp_path / eb.CGROUP).mkdir()
    (tmp_path / eb.CGROUP / "memory.swap.max").write_text("max\n")
    parent, memory, pids, absent = eb.cgroup_bounds(GradingLimits(memory_mb=300, pids=99), tmp_path)
    assert (parent, memory, pids, absent) == (f"/{eb.CGROUP}", 300, 99, [])
    cg = tmp_path / eb.CGROUP
    assert (tmp_path / "cgroup.subtree_control").read_text().split() == ["+memory", "+pids"]
    assert (cg / "memory.max").read_text().strip() == str(300 * 1024 * 1024)
    assert (cg / "memory.swap.max").read_text().strip() == "0"
    assert (cg / "pids.max").read_text().strip() == "99"


def test_the_disk_is_at_most_half_the_free_space_and_none_when_too_small(tmp_path, monkeypatch):
    class Usage:
        free = 30 * 10**9

    monkeypatch.setattr(eb.shutil, "disk_usage", lambda path: Usage)
    assert eb.disk_size_gb(tmp_path / "disk.img", 20) == 15
    assert eb.disk_size_gb(tmp_path / "disk.img", 10) == 10
    Usage.free = 5 * 10**9
    assert eb.disk_size_gb(tmp_path / "disk.img", 20) == 0
    mounted, why = eb.mount_disk(tmp_path / "disk.img", tmp_path / "data", 20, log=lambda m: None)
    assert mounted == 0 and "free" in why and not (tmp_path / "disk.img").exists()


def test_the_disk_counts_as_mounted_only_when_the_top_mount_is_a_loop_of_its_image(tmp_path, monkeypatch):
    """dockerd binds its data root onto itself (a crash leaves that bind): that is not the bounded disk."""
    data, image = tmp_path / "grading" / "data", tmp_path / "grading" / "disk.img"
    data.mkdir(parents=True)
    image.write_bytes(b"")
    (tmp_path / "block" / "loop3" / "loop").mkdir(parents=True)
    (tmp_path / "block" / "loop3" / "loop" / "backing_file").write_text(f"{image}\n")
    bind = f"36 25 254:0 {data} {data} rw,relatime shared:1 - ext4 /dev/vda rw"
    loop = f"40 36 7:3 / {data} rw,relatime shared:2 - ext4 /dev/loop3 rw,discard"
    monkeypatch.setattr(eb, "SYS_BLOCK", tmp_path / "block")
    monkeypatch.setattr(eb, "MOUNTINFO", tmp_path / "mountinfo")
    for lines, mounted in (([bind], False), ([bind, loop], True), ([loop, bind], False), ([], False)):
        (tmp_path / "mountinfo").write_text("\n".join(lines) + "\n")
        assert eb._loop_mounted(image, data) is mounted, lines
    (tmp_path / "mountinfo").write_text(f"{loop}\n{bind}\n")
    assert eb._mounts_at(data) == ["/dev/loop3", "/dev/vda"]
    assert not eb._loop_mounted(tmp_path / "other.img", data)


def test_no_loop_devices_is_an_absent_disk_bound_and_the_data_root_is_kept(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "image").write_text("kept")
    monkeypatch.setattr(eb, "LOOP_CONTROL", tmp_path / "loop-control")
    mounted, why = eb.mount_disk(tmp_path / "disk.img", tmp_path / "data", 20, log=lambda m: None)
    assert mounted == 0 and "no loop devices" in why
    assert (tmp_path / "data" / "image").read_text() == "kept" and not (tmp_path / "disk.img").exists()
