"""Enforcing the grading engine's bounds (:mod:`helpers.grading.limits`): a cgroup and a fixed-size disk.

- **Memory and processes.** The grading dockerd starts with ``--cgroup-parent`` = :data:`CGROUP`, a cgroup this
  module creates with a memory limit (no swap) and a process limit. dockerd puts every container under it, and
  its embedded BuildKit puts every RUN step there too (``<parent>/buildkit/<id>``), so one submission's builds
  and containers share those limits. cgroup v1 (``/sys/fs/cgroup/<controller>``) and v2 (unified) are handled.
- **Disk.** The data root (images, layers, build cache) is an ext4 filesystem in a sparse image file
  (``<state>/grading/disk.img``) loop-mounted at ``<state>/grading/data``; made once, reused, unmounted when the
  grading engine stops. Mounted with ``discard``, so what a submission wrote and grading removed is given
  back to the host's disk.

Where a bound cannot be set (no cgroup controller, no loop device, too little free disk) the engine starts
without it, the log says why, and :class:`~helpers.grading.limits.Bounds` records it as absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from helpers.grading.limits import GradingLimits

__all__ = ["CGROUP", "CGROUP_ROOT", "cgroup_bounds", "mount_disk", "unmount_disk", "disk_size_gb"]

#: The cgroup every container and RUN step of the grading engine lives under.
CGROUP = "course-grading"
CGROUP_ROOT = Path("/sys/fs/cgroup")
MOUNTINFO = Path("/proc/self/mountinfo")
SYS_BLOCK = Path("/sys/block")
LOOP_CONTROL = Path("/dev/loop-control")
#: Below this size (GB) a fixed disk would not even hold the base images: the engine runs without one.
MIN_DISK_GB = 4
#: mkfs.ext4's extended options: write as little as it can (the image stays sparse, and making it takes a moment).
MKFS_EXTENDED = "nodiscard,lazy_itable_init=1,lazy_journal_init=1"
Log = Callable[[str], None]


def _write(path: Path, value: str) -> None:
    path.write_text(value + "\n")


def cgroup_bounds(limits: GradingLimits, root: Path | None = None) -> tuple[str, int, int, list[str]]:
    """Create :data:`CGROUP` with the memory and process limits of ``limits``.

    Returns:
        The ``--cgroup-parent`` value for dockerd ("" when no cgroup could be made), the memory (MiB) and
        process bounds set (0 for one not set), and one line per bound not set saying why.
    """
    root = root or CGROUP_ROOT
    try:
        return _cgroup_v2(limits, root) if (root / "cgroup.controllers").exists() else _cgroup_v1(limits, root)
    except OSError as e:
        return "", 0, 0, [f"memory and process bounds: the cgroup {CGROUP} could not be set up ({e})"]


def _cgroup_v1(limits: GradingLimits, root: Path) -> tuple[str, int, int, list[str]]:
    """cgroup v1: ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes``), ``pids.max``."""
    absent, memory, pids = [], 0, 0
    mem = root / "memory" / CGROUP
    if (root / "memory").is_dir():
        mem.mkdir(exist_ok=True)
        _set_v1_memory(mem, limits.memory_mb * 1024 * 1024)
        memory = limits.memory_mb
    else:
        absent.append("memory bound: this host has no cgroup memory controller")
    if (root / "pids").is_dir():
        (root / "pids" / CGROUP).mkdir(exist_ok=True)
        _write(root / "pids" / CGROUP / "pids.max", str(limits.pids))
        pids = limits.pids
    else:
        absent.append("process bound: this host has no cgroup pids controller")
    return (f"/{CGROUP}" if memory or pids else ""), memory, pids, absent


def _set_v1_memory(cg: Path, limit: int) -> None:
    """Memory and memory+swap limits to ``limit`` (memsw never below memory: the order depends on the change)."""
    memsw = cg / "memory.memsw.limit_in_bytes"
    try:
        _write(cg / "memory.limit_in_bytes", str(limit))
    except OSError:  # raising it above the current memsw limit: that one first
        _write(memsw, str(limit))
        _write(cg / "memory.limit_in_bytes", str(limit))
    if memsw.exists():
        _write(memsw, str(limit))


def _cgroup_v2(limits: GradingLimits, root: Path) -> tuple[str, int, int, list[str]]:
    """cgroup v2: ``memory.max``, ``memory.swap.max`` 0 and ``pids.max``, the controllers enabled down to it."""
    available = (root / "cgroup.controllers").read_text().split()
    wanted = [c for c in ("memory", "pids") if c in available]
    absent = [f"{c} bound: this host's cgroup v2 has no {c} controller" for c in ("memory", "pids") if c not in wanted]
    if not wanted:
        return "", 0, 0, absent
    _write(root / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
    cg = root / CGROUP
    cg.mkdir(exist_ok=True)
    _write(cg / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
    memory = pids = 0
    if "memory" in wanted:
        _write(cg / "memory.max", str(limits.memory_mb * 1024 * 1024))
        if (cg / "memory.swap.max").exists():
            _write(cg / "memory.swap.max", "0")
        memory = limits.memory_mb
    if "pids" in wanted:
        _write(cg / "pids.max", str(limits.pids))
        pids = limits.pids
    return f"/{CGROUP}", memory, pids, absent


def disk_size_gb(image: Path, wanted_gb: int) -> int:
    """The disk image's size: ``wanted_gb``, at most half of the free space where the image goes (0: too little)."""
    free = shutil.disk_usage(image.parent).free + (image.stat().st_blocks * 512 if image.exists() else 0)
    size = min(wanted_gb, int(free / 2 / 1e9))
    return size if size >= MIN_DISK_GB else 0


def _run(cmd: list[str]) -> str:
    """Run a command; its error text ("" when it succeeded)."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return "" if proc.returncode == 0 else (proc.stderr.strip() or f"exit status {proc.returncode}")[:300]


def mount_disk(image: Path, mountpoint: Path, wanted_gb: int, log: Log) -> tuple[float, str]:
    """Mount the fixed-size data filesystem at ``mountpoint`` (making the image first if needed).

    An image of another size (the bound changed) is made again: the grading engine's data is throwaway.
    Whatever an unbounded data root left at ``mountpoint`` is removed before mounting over it.

    Returns:
        The size of the mounted filesystem in GB, and "" (or 0 and why it is not bounded).
    """
    if _loop_mounted(image, mountpoint):
        return image.stat().st_size / 1e9, ""
    unmount_disk(mountpoint)  # something else there (dockerd binds its data root onto itself; a crash leaves it)
    for tool in ("mkfs.ext4", "mount"):
        if not shutil.which(tool):
            return 0, f"{tool} is not installed"
    if not LOOP_CONTROL.exists():
        return 0, f"this machine has no loop devices ({LOOP_CONTROL} is missing)"
    size = disk_size_gb(image, wanted_gb)
    if not size:
        return 0, f"less than {2 * MIN_DISK_GB} GB free beside {image}"
    if image.exists() and image.stat().st_size != size * 10**9:
        image.unlink()
    if not image.exists():
        with image.open("wb") as f:
            f.truncate(size * 10**9)  # sparse: blocks are used as the engine writes
        err = _run(["mkfs.ext4", "-q", "-F", "-m", "0", "-L", CGROUP, "-E", MKFS_EXTENDED, str(image)])
        if err:
            image.unlink(missing_ok=True)
            return 0, f"mkfs.ext4 failed: {err}"
        log(f"Grading engine: made its {size} GB disk ({image}, sparse).")
    if mountpoint.exists() and any(mountpoint.iterdir()):
        shutil.rmtree(mountpoint, ignore_errors=True)  # an unbounded data root of an earlier version
    mountpoint.mkdir(parents=True, exist_ok=True)
    err = _run(["mount", "-o", "loop,discard", str(image), str(mountpoint)])
    if err:
        return 0, f"the disk image could not be mounted (no loop device?): {err}"
    return size, ""


def _mounts_at(mountpoint: Path) -> list[str]:
    """The sources of what is mounted at ``mountpoint``, bottom to top (``os.path.ismount`` misses a self-bind)."""
    try:
        lines = MOUNTINFO.read_text().splitlines()
    except OSError:
        return []
    target = os.path.realpath(mountpoint).replace(" ", "\\040")  # mountinfo escapes spaces
    return [ln.split(" - ")[1].split()[1] for ln in lines if " - " in ln and ln.split()[4] == target]


def _loop_mounted(image: Path, mountpoint: Path) -> bool:
    """True when what is mounted at ``mountpoint`` (the topmost mount) is a loop device backed by ``image``."""
    sources = _mounts_at(mountpoint)
    if not sources or not sources[-1].startswith("/dev/loop"):
        return False
    backing = SYS_BLOCK / Path(sources[-1]).name / "loop" / "backing_file"
    try:
        return os.path.realpath(backing.read_text().strip()) == os.path.realpath(image)
    except OSError:
        return False


def unmount_disk(mountpoint: Path) -> bool:
    """Unmount everything at ``mountpoint`` (lazily if the engine left it busy); True when something was mounted."""
    was = bool(_mounts_at(mountpoint))
    for _ in range(4):  # stacked mounts: the loop device, dockerd's bind of its data root
        if not _mounts_at(mountpoint):
            break
        if _run(["umount", str(mountpoint)]):
            _run(["umount", "-l", str(mountpoint)])
    return was
