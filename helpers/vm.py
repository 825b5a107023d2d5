"""Run the same image filesystem as a virtual machine with qemu, and measure it.

The VM is built from the very image a container runs: ``docker export`` of a container
made from it, packed as an initramfs (see :mod:`helpers.initramfs`) with a Debian kernel.
qemu boots it with KVM when KVM works here (probed with a short timeout), else with
software emulation (TCG), and forwards a free loopback port to the app (user-mode
networking). Every step has a timeout; the VM is always stopped and its files removed.

Where no VM can be started, :func:`published_vm_figures` gives Firecracker's published
figures, labelled ``source="published"`` with their source; they are never measurements.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from .engine import get_client, kit_labels
from .errors import HealthTimeout, SetupError, ToolMissing
from .initramfs import ImageConfig, module_load_order, tar_to_initramfs
from .measure import COLUMNS, MIB, AppImage, free_port, loopback_load, measurement_row, wait_for_http

__all__ = [
    "VM_PACKAGES",
    "VmTools",
    "VmImage",
    "RunningVm",
    "find_vm_tools",
    "vm_tools_available",
    "ensure_vm_tools",
    "probe_kvm",
    "build_vm_image",
    "run_vm",
    "measure_vm",
    "published_vm_figures",
]

#: Debian packages the VM measurements need (installed by :func:`ensure_vm_tools`).
VM_PACKAGES = ["qemu-system-x86", "linux-image-cloud-amd64", "busybox-static", "cpio"]
VIRTIO_MODULES = ["virtio_pci", "virtio_net"]
Log = Callable[[str], None]


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
    from .daemon import apt_install

    apt_install(VM_PACKAGES, log)
    try:
        return find_vm_tools()
    except ToolMissing as e:
        raise SetupError(f"Installed {' '.join(VM_PACKAGES)} but: {e.message}", e.hint) from e


def _qemu_base(tools: VmTools, accel: str, mem_mib: int, initrd: Path, serial: Path, cpus: int = 1) -> list[str]:
    return [tools.qemu, "-accel", accel, "-m", str(mem_mib), "-smp", str(cpus), "-kernel", str(tools.kernel),
            "-initrd", str(initrd), "-append", "console=ttyS0 panic=-1 quiet rdinit=/init",
            "-display", "none", "-serial", f"file:{serial}", "-monitor", "none", "-nodefaults", "-no-reboot"]


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

    from .paths import state_dir

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
    from .initramfs import CpioWriter

    with tempfile.TemporaryDirectory(prefix="course-kvm-probe-") as tmp:
        initrd, serial = Path(tmp) / "probe.cpio", Path(tmp) / "serial.log"
        with open(initrd, "wb") as f:
            w = CpioWriter(f)
            w.add("bin", 0o40755)
            w.add("bin/busybox", 0o100755, tools.busybox.read_bytes())
            w.add("init", 0o100755, b"#!/bin/busybox sh\necho KVM-PROBE-OK\n/bin/busybox poweroff -f\n")
            w.close()
        cmd = _qemu_base(tools, "kvm", 128, initrd, serial)
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return "KVM-PROBE-OK" in serial.read_text(errors="replace") if serial.exists() else False


@dataclass
class VmImage:
    """A bootable VM made from an image: the initramfs and what it was made from."""

    image: str
    initramfs: Path
    kernel: Path
    entries: int
    seconds: float

    @property
    def disk_bytes(self) -> int:
        """Kernel plus initramfs: what the VM needs on disk to boot."""
        return self.initramfs.stat().st_size + self.kernel.stat().st_size


def build_vm_image(image: str, workdir: Path, tools: VmTools | None = None, client: Any = None,
                   timeout: float = 300) -> VmImage:
    """Export an image's filesystem and pack it as an initramfs in ``workdir``.

    The helper container made for ``docker export`` is never started and is removed.

    Raises:
        ImageNotFound: The image is not on the engine.
        ToolMissing: No qemu, kernel or busybox.
    """
    from docker.errors import ImageNotFound as _NF

    from .errors import ImageNotFound

    tools = tools or find_vm_tools()
    c = get_client(client)
    start = time.monotonic()
    try:
        config = ImageConfig.from_inspect(c.images.get(image).attrs.get("Config") or {})
    except _NF as e:
        raise ImageNotFound(image) from e
    tar = workdir / "rootfs.tar"
    ctr = c.containers.create(image, labels=kit_labels("measure"))
    try:
        with open(tar, "wb") as f:
            for chunk in ctr.export(chunk_size=1024 * 1024):
                f.write(chunk)
                if time.monotonic() - start > timeout:
                    raise SetupError(f"Exporting {image} took more than {timeout:.0f} s.", "Try again on a quieter machine.")
    finally:
        ctr.remove(force=True)
    out = workdir / "initramfs.cpio"
    try:
        entries = tar_to_initramfs(tar, out, config, tools.busybox, module_load_order(tools.modules, VIRTIO_MODULES))
    except FileNotFoundError as e:
        raise ToolMissing("virtio kernel modules", f"{e}; install linux-image-cloud-amd64.") from e
    finally:
        tar.unlink(missing_ok=True)
    return VmImage(image, out, tools.kernel, entries, time.monotonic() - start)


@dataclass
class RunningVm:
    """A VM started by :func:`run_vm`."""

    process: subprocess.Popen
    host_port: int
    accel: str
    serial_log: Path
    started: float

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_bytes(self) -> int:
        """Resident memory of the qemu process (what the host pays for the VM)."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def cpu_seconds(self) -> float:
        """User + system CPU time of the qemu process so far."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def console_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.serial_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def run_vm(vm: VmImage, guest_port: int, accel: str = "auto", mem_mib: int = 1024, cpus: int = 1,
           tools: VmTools | None = None) -> Iterator[RunningVm]:
    """Boot ``vm`` with a free loopback port forwarded to ``guest_port``; stop it on exit.

    Args:
        vm: From :func:`build_vm_image`.
        guest_port: The app's port inside the VM.
        accel: "kvm", "tcg" or "auto" (KVM when :func:`probe_kvm` says it works).
        mem_mib: Guest memory (the initramfs lives in it: give it more than twice the image size).
        cpus: Virtual CPUs.
        tools: From :func:`find_vm_tools`.
    """
    tools = tools or find_vm_tools()
    accel = ("kvm" if probe_kvm() else "tcg") if accel == "auto" else accel
    port = free_port()
    serial = vm.initramfs.with_name("serial.log")
    cmd = _qemu_base(tools, accel, mem_mib, vm.initramfs, serial, cpus) + [
        "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:{guest_port}", "-device", "virtio-net-pci,netdev=n0"]
    start = time.monotonic()
    with open(serial.with_name("qemu.log"), "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        yield RunningVm(proc, port, accel, serial, start)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def measure_vm(app: AppImage, client: Any = None, accel: str = "auto", mem_mib: int = 1024, boot_timeout: float = 180,
               idle_seconds: float = 2.0, load_seconds: float = 3.0, concurrency: int = 4) -> Any:
    """Build a VM from ``app``'s image, boot it, measure it like a container, and remove it.

    Figures: disk (kernel + initramfs), boot to first HTTP 200, qemu RSS at idle and under
    the same loopback load, CPU seconds to boot and during the load, requests per second.
    ``attrs["accel"]`` says whether KVM or software emulation (TCG) ran the guest.

    Raises:
        ToolMissing: No qemu, kernel or busybox (see :func:`published_vm_figures`).
        HealthTimeout: No HTTP 200 within ``boot_timeout`` (carries the console tail).
    """
    import pandas as pd

    tools = find_vm_tools()
    with tempfile.TemporaryDirectory(prefix="course-vm-") as tmp:
        vm = build_vm_image(app.ref, Path(tmp), tools, client)
        with run_vm(vm, app.port, accel, mem_mib, tools=tools) as running:
            try:
                wait_for_http(running.host_port, app.path, boot_timeout, alive=running.alive, interval=0.2)
            except HealthTimeout as e:
                raise HealthTimeout(f"The VM ({running.accel}) did not answer HTTP 200: {e.message}",
                                    container="qemu", log_tail=running.console_tail(),
                                    hint="Read the console tail; raise boot_timeout on a slow machine.") from e
            boot = time.monotonic() - running.started
            time.sleep(idle_seconds)
            idle, cpu_boot = running.rss_bytes(), running.cpu_seconds()
            peak = [idle]
            load = loopback_load(running.host_port, app.path, load_seconds, concurrency,
                                 on_tick=lambda: peak.append(running.rss_bytes())) if load_seconds > 0 else None
            cpu_end = running.cpu_seconds()
            peak.append(running.rss_bytes())
            accel_used = running.accel
        disk = vm.disk_bytes
    p, how = "vm", f"qemu {accel_used.upper()}, {mem_mib} MiB guest"
    rows = [
        measurement_row(p, "image size", disk / MIB, "MiB", note="kernel + initramfs (the image's files)"),
        measurement_row(p, "start-up", boot, "s", note=f"qemu start to first HTTP 200 ({how})"),
        measurement_row(p, "memory idle", idle / MIB, "MiB", note="qemu process RSS"),
        measurement_row(p, "CPU to start", cpu_boot, "s", note="CPU seconds of qemu until idle"),
    ]
    if load is not None:
        rows += [
            measurement_row(p, "memory under load", max(peak) / MIB, "MiB", note=f"peak qemu RSS, {len(peak)} samples"),
            measurement_row(p, "CPU during load", cpu_end - cpu_boot, "s", note=f"{load.seconds:.1f} s of load"),
            measurement_row(p, "requests per second", load.per_second, "req/s",
                            note=f"{load.requests} ok, {load.errors} errors"),
        ]
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.attrs.update(accel=accel_used, build_seconds=vm.seconds, mem_mib=mem_mib)
    return df


#: Firecracker's published specification (not measured here).
FIRECRACKER_SOURCE = "https://github.com/firecracker-microvm/firecracker/blob/main/SPECIFICATION.md"


def published_vm_figures() -> Any:
    """Firecracker's published start-up and memory overhead, labelled ``source="published"``.

    For when no VM can be started here. These are a vendor's specification on an i3.metal
    host (2 vCPUs, 256 MiB guest), not measurements: never plot them as measured.
    """
    import pandas as pd

    p, src = "vm (Firecracker)", "published"
    note = f"Firecracker specification, i3.metal, 2 vCPU / 256 MiB guest: {FIRECRACKER_SOURCE}"
    rows = [
        measurement_row(p, "start-up", 0.125, "s", src, "<= 125 ms from InstanceStart to guest /sbin/init "
                        "(the app's own start-up comes on top); " + note),
        measurement_row(p, "memory overhead", 5, "MiB", src, "<= 5 MiB for the VMM threads, plus the guest's "
                        "own memory; " + note),
        measurement_row(p, "guest memory", 256, "MiB", src, "memory given to the guest in that specification; " + note),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)
