"""Turn an image's filesystem (a ``docker export`` tar) into a bootable Linux initramfs.

The initramfs is the image's files, unchanged, plus three things under ``/.vm`` and one
at ``/init``: a static busybox (for ``insmod``, ``ip``, ``mount``), the kernel modules for
virtio networking, and a small init script that brings the network up and then ``exec``\\ s
the image's own command with the image's own environment, working directory and user.
The archive is written in the kernel's ``newc`` cpio format by this module (no root, no
extraction to disk needed); it is uncompressed, so the kernel unpacks it quickly.
"""

from __future__ import annotations

import gzip
import lzma
import shlex
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = ["CpioWriter", "ImageConfig", "init_script", "module_load_order", "tar_to_initramfs", "guest_memory"]

#: Guest address in qemu's user-mode network (fixed by qemu).
GUEST_IP = "10.0.2.15"
GATEWAY = "10.0.2.2"
DNS = "10.0.2.3"
#: Printed on the serial console just before the app starts.
READY_MARK = "COURSE-VM-NETWORK-UP"
#: Ends the guest's memory report, printed on the console every second.
MEM_MARK = "COURSE-VM-MEM"


class CpioWriter:
    """Write a ``newc`` (SVR4, no CRC) cpio archive, the format the Linux kernel unpacks."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self._ino = 1
        self.bytes_written = 0
        self.entries = 0

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.bytes_written += len(data)

    def _pad(self) -> None:
        if self.bytes_written % 4:
            self._write(b"\0" * (4 - self.bytes_written % 4))

    def add(
        self,
        name: str,
        mode: int,
        data: bytes = b"",
        uid: int = 0,
        gid: int = 0,
        mtime: int = 0,
        rdev: tuple[int, int] = (0, 0),
    ) -> None:
        """Add one entry.

        Args:
            name: Path inside the archive, without a leading slash.
            mode: Full st_mode (file type bits and permissions).
            data: File contents (the link target for a symlink).
            uid: Owner.
            gid: Group.
            mtime: Modification time.
            rdev: (major, minor) for device nodes.
        """
        encoded = name.encode() + b"\0"
        fields = [
            self._ino,
            mode,
            uid,
            gid,
            2 if stat.S_ISDIR(mode) else 1,
            int(mtime),
            len(data),
            0,
            0,
            rdev[0],
            rdev[1],
            len(encoded),
            0,
        ]
        self._ino += 1
        self._write(b"070701" + b"".join(b"%08X" % (f & 0xFFFFFFFF) for f in fields))
        self._write(encoded)
        self._pad()
        if data:
            self._write(data)
            self._pad()
        self.entries += 1

    def close(self) -> None:
        """Write the trailer."""
        self.add("TRAILER!!!", 0)


@dataclass
class ImageConfig:
    """What the init script needs from the image's config (``docker inspect`` Config)."""

    argv: list[str]
    env: list[str] = field(default_factory=list)
    workdir: str = "/"
    user: str = ""

    @classmethod
    def from_inspect(cls, config: dict[str, Any]) -> ImageConfig:
        argv = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
        return cls(argv, list(config.get("Env") or []), config.get("WorkingDir") or "/", config.get("User") or "")


def _resolve_user(user: str, passwd: str, group: str) -> tuple[int, int] | None:
    """uid, gid for an image's USER (name or number, optional ``:group``); None for root."""
    if not user or user in ("root", "0", "0:0"):
        return None
    name, _, grp = user.partition(":")
    uid = gid = None
    for line in passwd.splitlines():
        parts = line.split(":")
        if len(parts) > 3 and (parts[0] == name or parts[2] == name):
            uid, gid = int(parts[2]), int(parts[3])
    if uid is None:
        uid = int(name) if name.isdigit() else 0
        gid = uid
    if grp:
        gid = (
            int(grp)
            if grp.isdigit()
            else next(
                (int(p[2]) for p in (ln.split(":") for ln in group.splitlines()) if len(p) > 2 and p[0] == grp), gid
            )
        )
    return uid, int(gid or 0)


def init_script(config: ImageConfig, ids: tuple[int, int] | None = None) -> str:
    """The ``/init`` shell script (run by the kernel as PID 1, through busybox)."""
    b = "/.vm/busybox"
    env = "\n".join(f"export {shlex.quote(e)}" for e in config.env if "=" in e)
    run = shlex.join(config.argv) or "/bin/sh"
    if ids:
        run = f"{b} setpriv --reuid={ids[0]} --regid={ids[1]} --clear-groups -- {run}"
    return f"""#!{b} sh
{b} mkdir -p /proc /sys /dev /tmp /run
{b} mount -t proc proc /proc
{b} mount -t sysfs sysfs /sys
{b} mount -t devtmpfs devtmpfs /dev 2>/dev/null
for m in /.vm/modules/*.ko; do [ -e "$m" ] && {b} insmod "$m"; done
{b} ip link set lo up
{b} ip link set eth0 up
{b} ip addr add {GUEST_IP}/24 dev eth0
{b} ip route add default via {GATEWAY}
[ -w /etc ] && echo "nameserver {DNS}" > /etc/resolv.conf
echo {READY_MARK}
( while :; do {b} sleep 1
  {b} awk '/^(MemTotal|MemAvailable):/ {{printf "%s %s ", $1, $2}} END {{print "{MEM_MARK}"}}' /proc/meminfo; done ) &
{env}
cd {shlex.quote(config.workdir)}
exec {run}
"""


def module_load_order(modules_dir: Path, wanted: list[str]) -> list[Path]:
    """Module files to ``insmod``, dependencies first, from ``modules.dep``.

    Modules built into the kernel (``modules.builtin``) need no file and are skipped.
    """
    deps: dict[str, list[str]] = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        deps[path] = rest.split()
    by_name = {_mod_name(p): p for p in deps}
    builtin_file = modules_dir / "modules.builtin"
    builtin = {_mod_name(p) for p in builtin_file.read_text().split()} if builtin_file.exists() else set()
    order: list[str] = []

    def visit(path: str) -> None:
        for d in deps.get(path, []):
            visit(d)
        if path not in order:
            order.append(path)

    for name in wanted:
        if name in builtin:
            continue
        if name not in by_name:
            raise FileNotFoundError(f"kernel module {name} not in {modules_dir}")
        visit(by_name[name])
    return [modules_dir / p for p in order]


def _clean(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    name = name.strip("/")
    return "" if name == "." else name


def _mod_name(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    return base.split(".ko", 1)[0].replace("-", "_")


def _module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        return lzma.decompress(data)
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        raise ValueError(f"{path.name}: zstd-compressed modules are not supported; use a kernel with .ko or .ko.xz")
    return data


def tar_to_initramfs(tar_path: Path, out_path: Path, config: ImageConfig, busybox: Path, modules: list[Path]) -> int:
    """Write an initramfs from a ``docker export`` tar; return the number of entries.

    Args:
        tar_path: The exported filesystem.
        out_path: Where to write the cpio archive.
        config: The image's command, environment, working directory and user.
        busybox: A static busybox binary.
        modules: Kernel module files, in load order.
    """
    passwd = group = ""
    with tarfile.open(tar_path) as tar, open(out_path, "wb") as out:
        w = CpioWriter(out)
        for dirname in (".vm", ".vm/modules"):
            w.add(dirname, stat.S_IFDIR | 0o755)
        w.add(".vm/busybox", stat.S_IFREG | 0o755, busybox.read_bytes())
        for i, mod in enumerate(modules):
            w.add(f".vm/modules/{i:02d}-{_mod_name(mod.name)}.ko", stat.S_IFREG | 0o644, _module_bytes(mod))
        for m in tar:
            name = _clean(m.name)
            if not name or name in ("init", "dev/console"):
                continue  # our /init; docker's placeholder file for the console (a device below)
            perm = m.mode & 0o7777
            if m.isdir():
                w.add(name, stat.S_IFDIR | perm, uid=m.uid, gid=m.gid, mtime=int(m.mtime))
            elif m.issym():
                w.add(name, stat.S_IFLNK | 0o777, m.linkname.encode(), m.uid, m.gid, int(m.mtime))
            elif m.isreg() or m.islnk():
                f = tar.extractfile(m)  # for a hard link: the target's data (a copy in the archive)
                data = f.read() if f else b""
                if name in ("etc/passwd", "etc/group"):
                    passwd, group = (
                        (data.decode(errors="replace"), group)
                        if name == "etc/passwd"
                        else (passwd, data.decode(errors="replace"))
                    )
                w.add(name, stat.S_IFREG | perm, data, m.uid, m.gid, int(m.mtime))
            elif m.ischr() or m.isblk():
                kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
                w.add(name, kind | perm, uid=m.uid, gid=m.gid, rdev=(m.devmajor, m.devminor))
            elif m.isfifo():
                w.add(name, stat.S_IFIFO | perm, uid=m.uid, gid=m.gid)
        # the kernel opens /dev/console for init's output before anything is mounted
        w.add("dev", stat.S_IFDIR | 0o755)
        w.add("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
        script = init_script(config, _resolve_user(config.user, passwd, group))
        w.add("init", stat.S_IFREG | 0o755, script.encode())
        w.close()
        return w.entries


def guest_memory(console: str) -> tuple[int, int] | None:
    """(total, in use) bytes from the last memory report the guest printed on its console.

    In use is ``MemTotal - MemAvailable``: what the guest's kernel and processes hold,
    page cache that could be dropped left out.
    """
    for line in reversed(console.splitlines()):
        if line.rstrip().endswith(MEM_MARK):
            fields = line.split()
            try:
                values = dict(zip(fields[0:-1:2], (int(v) for v in fields[1:-1:2])))
                total, avail = values["MemTotal:"], values["MemAvailable:"]
            except (KeyError, ValueError):
                continue
            return total * 1024, (total - avail) * 1024
    return None
