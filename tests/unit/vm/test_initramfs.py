"""Unit tests for helpers.vm.initramfs: the cpio writer, the init script, module order."""

from __future__ import annotations

import io
import shutil
import stat
import subprocess
import tarfile

import pytest
from ci_rules import unavailable

from helpers.vm.initramfs import (
    READY_MARK,
    CpioWriter,
    ImageConfig,
    _resolve_user,
    init_script,
    module_load_order,
    tar_to_initramfs,
)


def read_newc(data: bytes) -> list[tuple[str, int, bytes]]:
    """A small independent newc reader: (name, mode, data) per entry."""
    out, pos = [], 0
    while True:
        assert data[pos : pos + 6] == b"070701", f"bad magic at {pos}"
        fields = [int(data[pos + 6 + 8 * i : pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        pos += 110
        name = data[pos : pos + namesize - 1].decode()
        pos = (pos + namesize + 3) & ~3
        body = data[pos : pos + size]
        pos = (pos + size + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out.append((name, mode, body))


def test_cpio_round_trip():
    """Does what the writer adds come back out, aligned, with the right modes?"""
    buf = io.BytesIO()
    w = CpioWriter(buf)
    w.add("etc", stat.S_IFDIR | 0o755)
    w.add("etc/hello", stat.S_IFREG | 0o644, b"hi there\n")
    w.add("bin/sh", stat.S_IFLNK | 0o777, b"busybox")
    w.close()
    entries = read_newc(buf.getvalue())
    assert [e[0] for e in entries] == ["etc", "etc/hello", "bin/sh"]
    assert entries[1][2] == b"hi there\n"
    assert stat.S_ISLNK(entries[2][1]) and entries[2][2] == b"busybox"
    assert len(buf.getvalue()) % 4 == 0


def test_gnu_cpio_reads_the_archive(tmp_path):
    """Does GNU cpio (the reference tool) list and extract what the writer wrote?"""
    if not shutil.which("cpio"):
        unavailable("GNU cpio is not installed (`python -m helpers vm setup`)")
    with open(tmp_path / "a.cpio", "wb") as f:
        w = CpioWriter(f)
        w.add("d", stat.S_IFDIR | 0o755)
        w.add("d/file.txt", stat.S_IFREG | 0o640, b"x" * 1001)
        w.add("d/link", stat.S_IFLNK | 0o777, b"file.txt")
        w.close()
    listing = subprocess.run(
        ["cpio", "-it", "--quiet"], stdin=open(tmp_path / "a.cpio", "rb"), capture_output=True, text=True, check=True
    ).stdout.split()
    assert listing == ["d", "d/file.txt", "d/link"]
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(
        ["cpio", "-id", "--quiet", "--no-absolute-filenames"],
        stdin=open(tmp_path / "a.cpio", "rb"),
        cwd=out,
        check=True,
    )
    assert (out / "d/file.txt").read_bytes() == b"x" * 1001
    assert (out / "d/link").is_symlink()


def test_init_script_runs_the_image_command_with_its_env():
    """Does /init export the image's env, cd to WORKDIR and exec its command (as its user)?"""
    cfg = ImageConfig(["python", "-m", "app"], ["PATH=/usr/bin:/bin", "GREETING=hello world"], "/srv")
    script = init_script(cfg, (1000, 1000))
    assert script.startswith("#!/.vm/busybox sh")
    assert "export 'GREETING=hello world'" in script
    assert "cd /srv" in script
    assert script.rstrip().endswith("--reuid=1000 --regid=1000 --clear-groups -- python -m app")
    assert READY_MARK in script
    assert "setpriv" not in init_script(cfg, None)


def test_image_config_joins_entrypoint_and_cmd():
    """Is the command ENTRYPOINT followed by CMD, as docker run would do?"""
    cfg = ImageConfig.from_inspect({"Entrypoint": ["tini", "--"], "Cmd": ["uvicorn", "app:app"], "Env": None})
    assert cfg.argv == ["tini", "--", "uvicorn", "app:app"]
    assert cfg.workdir == "/"


def test_resolve_user():
    """Are USER names and numbers mapped to uid/gid through the image's passwd and group?"""
    passwd = "root:x:0:0::/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n"
    group = "root:x:0:\nstaff:x:50:\n"
    assert _resolve_user("", passwd, group) is None
    assert _resolve_user("root", passwd, group) is None
    assert _resolve_user("app", passwd, group) == (1001, 1002)
    assert _resolve_user("app:staff", passwd, group) == (1001, 50)
    assert _resolve_user("2000", passwd, group) == (2000, 2000)


def test_module_load_order(tmp_path):
    """Are dependencies loaded before the modules that need them, once each, builtins skipped?"""
    (tmp_path / "modules.dep").write_text(
        "kernel/virtio_ring.ko:\n"
        "kernel/virtio.ko:\n"
        "kernel/virtio_pci.ko: kernel/virtio_ring.ko kernel/virtio.ko\n"
        "kernel/net_failover.ko: kernel/failover.ko\n"
        "kernel/failover.ko:\n"
        "kernel/virtio_net.ko.xz: kernel/net_failover.ko kernel/failover.ko kernel/virtio.ko kernel/virtio_ring.ko\n"
    )
    (tmp_path / "modules.builtin").write_text("kernel/virtio_blk.ko\n")
    order = [p.name for p in module_load_order(tmp_path, ["virtio_pci", "virtio_net", "virtio_blk"])]
    assert order == [
        "virtio_ring.ko",
        "virtio.ko",
        "virtio_pci.ko",
        "failover.ko",
        "net_failover.ko",
        "virtio_net.ko.xz",
    ]
    with pytest.raises(FileNotFoundError):
        module_load_order(tmp_path, ["e1000"])


def test_tar_to_initramfs_keeps_the_files_and_adds_init(tmp_path):
    """Does a docker-export-like tar become an initramfs with the same files, busybox and /init?"""
    tar_path = tmp_path / "rootfs.tar"
    with tarfile.open(tar_path, "w") as tar:
        for name, data in (
            ("etc/passwd", b"app:x:1001:1001::/:/bin/sh\n"),
            ("srv/app.py", b"print(1)\n"),
            ("init", b"not ours\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("srv/same.py")
        link.type, link.linkname = tarfile.LNKTYPE, "srv/app.py"
        tar.addfile(link)
        placeholder = tarfile.TarInfo("dev/console")  # docker export writes an empty regular file here
        tar.addfile(placeholder, io.BytesIO(b""))
        dot = tarfile.TarInfo(".hidden")
        dot.size = 1
        tar.addfile(dot, io.BytesIO(b"h"))
    busybox = tmp_path / "busybox"
    busybox.write_bytes(b"\x7fELF fake")
    out = tmp_path / "initramfs.cpio"
    tar_to_initramfs(tar_path, out, ImageConfig(["python3", "/srv/app.py"], user="app"), busybox, [])
    raw = read_newc(out.read_bytes())
    entries = {name: body for name, _, body in raw}
    consoles = [mode for name, mode, _ in raw if name == "dev/console"]
    assert len(consoles) == 1 and stat.S_ISCHR(consoles[0]), "init needs a real console device"
    assert entries["srv/app.py"] == entries["srv/same.py"] == b"print(1)\n"
    assert entries[".hidden"] == b"h"
    assert entries[".vm/busybox"] == b"\x7fELF fake"
    assert b"--reuid=1001" in entries["init"] and b"not ours" not in entries["init"]


def test_guest_memory_reads_the_last_complete_report():
    """Is the last complete memory line used, with in-use = MemTotal - MemAvailable, and noise ignored?"""
    from helpers.vm.initramfs import guest_memory

    console = (
        "[ 1.0] booting\nMemTotal: 1000 MemAvailable: 400 COURSE-VM-MEM\n"
        "MemTotal: 1000 MemAvailable: 300 COURSE-VM-MEM\nMemTotal: 10"
    )
    assert guest_memory(console) == (1000 * 1024, 700 * 1024)
    assert guest_memory("no report yet") is None
    assert "COURSE-VM-MEM" in init_script(ImageConfig(["x"]))
