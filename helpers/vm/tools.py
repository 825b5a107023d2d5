"""The tools a VM needs (qemu, a Debian kernel with virtio modules, a static busybox), and KVM.

:func:`ensure_vm_tools` installs them from Debian's packages when they are missing (root
only); :func:`probe_kvm` checks, with a short timeout, whether a KVM guest really boots here
(on some nested hosts /dev/kvm exists but a guest hangs): else VMs run under TCG.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from helpers.engine.daemon import apt_install
from helpers.errors import SetupError, ToolMissing
from helpers.paths import state_dir
from helpers.vm.initramfs import CpioWriter

__all__ = ["VM_PACKAGES", "VmTools", "find_vm_tools", "vm_tools_available", "ensure_vm_tools", "probe_kvm"]

#: Debian packages the VM measurements need (installed by :func:`ensure_vm_tools`).
Log = Callable[[str], None]
VM_PACKAGES = ["qemu-system-x86", "linux-image-cloud-amd64", "busybox-static", "cpio"]


@dataclass(frozen=True)
class VmTools:
    """What booting a VM needs: qemu, a kernel with its modules, a static busybox."""

    qemu: str
    kernel: Path
    modules: Path
    busybox: Path

    @property
    def qemu_version(self) -> str:
        out = subprocess.run([self.qemu, "--version"], capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"version ([\d.]+)", out)
        return m.group(1) if m else "?"


def _kernels() -> list[Path]:
    if os.environ.get("COURSE_VM_KERNEL"):
        return [Path(os.environ["COURSE_VM_KERNEL"])]
    found = sorted(Path("/boot").glob("vmlinuz-*"), key=lambda p: ("cloud" not in p.name, p.name))
    return [k for k in found if os.access(k, os.R_OK)]


def find_vm_tools() -> VmTools:
    """Find qemu, a readable kernel with virtio modules, and busybox.

    Raises:
        ToolMissing: One of them is missing (the hint says how to install it).
    """
    hint = f"Run `python -m helpers vm setup` (as root: apt-get install {' '.join(VM_PACKAGES)})."
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise ToolMissing("qemu-system-x86_64", hint)
    busybox = next((Path(p) for p in ("/bin/busybox", "/usr/bin/busybox") if Path(p).is_file()), None)
    if busybox is None:
        raise ToolMissing("busybox", hint)
    for kernel in _kernels():
        modules = Path("/lib/modules") / kernel.name.removeprefix("vmlinuz-")
        if (modules / "modules.dep").is_file():
            return VmTools(qemu, kernel, modules, busybox)
    raise ToolMissing("a Linux kernel (/boot/vmlinuz-*) with its modules", hint)


def vm_tools_available() -> bool:
    """True when :func:`find_vm_tools` finds everything."""
    try:
        find_vm_tools()
    except ToolMissing:
        return False
    return True


def ensure_vm_tools(log: Log = print) -> VmTools:
    """Install qemu, a kernel and busybox from Debian when they are missing (root only).

    Raises:
        SetupError: apt failed, or this is not root on Debian/Ubuntu.
    """
    if vm_tools_available():
        return find_vm_tools()

    apt_install(VM_PACKAGES, log)
    try:
        return find_vm_tools()
    except ToolMissing as e:
        raise SetupError(f"Installed {' '.join(VM_PACKAGES)} but: {e.message}", e.hint) from e


def qemu_base_command(tools: VmTools, accel: str, mem_mib: int, initrd: Path, serial: Path, cpus: int = 1) -> list[str]:
    """The qemu command shared by the KVM probe and :func:`helpers.vm.qemu.run_vm`: kernel, initramfs, serial log."""
    return [
        tools.qemu,
        "-accel",
        accel,
        "-m",
        str(mem_mib),
        "-smp",
        str(cpus),
        "-kernel",
        str(tools.kernel),
        "-initrd",
        str(initrd),
        "-append",
        "console=ttyS0 panic=-1 quiet rdinit=/init",
        "-display",
        "none",
        "-serial",
        f"file:{serial}",
        "-monitor",
        "none",
        "-nodefaults",
        "-no-reboot",
    ]


def _probe_cache_key(tools: VmTools) -> str:
    import platform

    return f"{platform.node()}|{platform.release()}|{tools.qemu}|{tools.kernel.name}"


@lru_cache(maxsize=4)
def probe_kvm(timeout: float = 8.0) -> bool:
    """Does a KVM guest boot here? Boots a tiny initramfs that prints a mark and powers off.

    False when /dev/kvm is missing or not usable, or the guest does not print its mark within
    ``timeout`` seconds (on some nested hosts a KVM guest hangs). The answer is cached for
    the process and in the state directory (``kvm-probe.json``, keyed by host and qemu).
    """
    import json

    if not (os.path.exists("/dev/kvm") and os.access("/dev/kvm", os.R_OK | os.W_OK)):
        return False
    try:
        tools = find_vm_tools()
    except ToolMissing:
        return False
    cache, key = state_dir() / "kvm-probe.json", _probe_cache_key(tools)
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    if isinstance(known.get(key), bool):
        return known[key]
    works = _boot_probe(tools, timeout)
    try:
        cache.write_text(json.dumps({**known, key: works}))
    except OSError:
        pass
    return works


def _boot_probe(tools: VmTools, timeout: float) -> bool:

    with tempfile.TemporaryDirectory(prefix="course-kvm-probe-") as tmp:
        initrd, serial = Path(tmp) / "probe.cpio", Path(tmp) / "serial.log"
        with open(initrd, "wb") as f:
            w = CpioWriter(f)
            w.add("bin", 0o40755)
            w.add("bin/busybox", 0o100755, tools.busybox.read_bytes())
            w.add("init", 0o100755, b"#!/bin/busybox sh\necho KVM-PROBE-OK\n/bin/busybox poweroff -f\n")
            w.close()
        cmd = qemu_base_command(tools, "kvm", 128, initrd, serial)
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return "KVM-PROBE-OK" in serial.read_text(errors="replace") if serial.exists() else False
