"""Run the same image filesystem as a virtual machine with qemu, and measure it.

The VM is built from the very image a container runs (see :mod:`helpers.vm.vmimage`).
qemu boots it with KVM when KVM works here (probed with a short timeout), else with
software emulation (TCG), and forwards a free loopback port to the app (user-mode
networking). Every step has a timeout; the VM is always stopped and its files removed.

Where no VM can be started, :func:`helpers.vm.results.published_vm_figures` gives Firecracker's published
figures, labelled ``source="published"`` with their source; they are never measurements.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.errors import HealthTimeout, SetupError
from helpers.vm.appimage import AppImage
from helpers.vm.initramfs import guest_memory
from helpers.vm.loadgen import free_port, loopback_load, wait_for_http
from helpers.vm.results import COLUMNS, MIB, load_rows, measurement_row
from helpers.vm.tools import VmTools, find_vm_tools, probe_kvm, qemu_base_command
from helpers.vm.vmimage import VmImage, build_vm_image

__all__ = ["RunningVm", "run_vm", "measure_vm"]


@dataclass
class RunningVm:
    """A VM started by :func:`run_vm`."""

    process: subprocess.Popen
    host_port: int
    accel: str
    serial_log: Path
    started: float

    def alive(self) -> bool:
        """The qemu process is still running."""
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

    def guest_memory(self) -> tuple[int, int] | None:
        """(total, in use) bytes as the guest's own kernel last reported them, if it did."""
        try:
            return guest_memory(self.serial_log.read_text(errors="replace"))
        except OSError:
            return None

    def console_tail(self, lines: int = 15) -> str:
        """The last lines the guest wrote to its serial console ("" when there is no log)."""
        try:
            return "\n".join(self.serial_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _die_with_parent() -> None:
    """In the child before exec: let the kernel kill qemu if this Python process dies (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@contextmanager
def run_vm(
    vm: VmImage, guest_port: int, accel: str = "auto", mem_mib: int = 1024, cpus: int = 1, tools: VmTools | None = None
) -> Iterator[RunningVm]:
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
    cmd = qemu_base_command(tools, accel, mem_mib, vm.initramfs, serial, cpus) + [
        "-netdev",
        f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:{guest_port}",
        "-device",
        "virtio-net-pci,netdev=n0",
    ]
    start = time.monotonic()
    with open(serial.with_name("qemu.log"), "wb") as err:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=_die_with_parent
        )
    try:
        yield RunningVm(proc, port, accel, serial, start)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def measure_vm(
    app: AppImage,
    client: Any = None,
    accel: str = "auto",
    mem_mib: int = 1024,
    boot_timeout: float = 180,
    idle_seconds: float = 2.0,
    load_seconds: float = 3.0,
    concurrency: int = 4,
) -> Any:
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
        _check_guest_memory(vm, mem_mib)
        with run_vm(vm, app.port, accel, mem_mib, tools=tools) as running:
            _wait_booted(running, app, boot_timeout)
            readings = _VmReadings(boot=time.monotonic() - running.started)
            _sample(running, app, readings, idle_seconds, load_seconds, concurrency)
        disk = vm.disk_bytes
    df = pd.DataFrame(_vm_rows(readings, disk, mem_mib), columns=COLUMNS)
    df.attrs.update(accel=readings.accel, build_seconds=vm.seconds, mem_mib=mem_mib)
    return df


@dataclass
class _VmReadings:
    """What :func:`measure_vm` read from a running VM."""

    boot: float
    accel: str = ""
    idle: int = 0
    cpu_boot: float = 0.0
    cpu_end: float = 0.0
    peak: list[int] = field(default_factory=list)
    load: Any = None
    inside: tuple[int, int] | None = None


def _check_guest_memory(vm: VmImage, mem_mib: int) -> None:
    """Raise when the guest is too small to unpack the initramfs (it lives in the guest's RAM)."""
    needed = int(3 * vm.initramfs.stat().st_size / MIB) + 64
    if mem_mib < needed:
        raise SetupError(
            f"{mem_mib} MiB of guest memory cannot hold this image as an initramfs "
            f"({vm.initramfs.stat().st_size / MIB:.0f} MiB, unpacked in RAM).",
            f"Give the VM at least {needed} MiB (mem_mib={needed}).",
        )


def _wait_booted(running: RunningVm, app: AppImage, boot_timeout: float) -> None:
    """Wait for the app's first HTTP 200 through the forwarded port; on timeout, raise with the console tail."""
    try:
        wait_for_http(running.host_port, app.path, boot_timeout, alive=running.alive, interval=0.2)
    except HealthTimeout as e:
        tail = running.console_tail()
        hint = (
            "The guest ran out of memory unpacking the image: raise mem_mib."
            if "Unable to mount root fs" in tail or "Out of memory" in tail
            else "Read the console tail; raise boot_timeout on a slow machine."
        )
        raise HealthTimeout(
            f"The VM ({running.accel}) did not answer HTTP 200: {e.message}",
            container="qemu",
            log_tail=tail,
            hint=hint,
        ) from e


def _sample(
    running: RunningVm, app: AppImage, r: _VmReadings, idle_seconds: float, load_seconds: float, concurrency: int
) -> None:
    """Read memory and CPU at idle, under the loopback load, and the guest's own memory report."""
    time.sleep(idle_seconds)
    r.accel = running.accel
    r.idle, r.cpu_boot = running.rss_bytes(), running.cpu_seconds()
    r.peak = [r.idle]
    if load_seconds > 0:
        tick = lambda: r.peak.append(running.rss_bytes())
        r.load = loopback_load(running.host_port, app.path, load_seconds, concurrency, on_tick=tick)
    r.cpu_end = running.cpu_seconds()
    r.peak.append(running.rss_bytes())
    time.sleep(1.2)  # the guest prints its memory every second
    r.inside = running.guest_memory()


def _vm_rows(r: _VmReadings, disk: int, mem_mib: int) -> list[dict[str, Any]]:
    """The measurement rows of one VM run."""
    p, how = "vm", f"qemu {r.accel.upper()}, {mem_mib} MiB guest"
    rows = [
        measurement_row(p, "image size", disk / MIB, "MiB", note="kernel + initramfs (the image's files)"),
        measurement_row(p, "start-up", r.boot, "s", note=f"qemu start to first HTTP 200 ({how})"),
        measurement_row(p, "memory idle", r.idle / MIB, "MiB", note="qemu process RSS"),
        measurement_row(p, "CPU to start", r.cpu_boot, "s", note="CPU seconds of qemu until idle"),
    ]
    if r.load is not None:
        rows += load_rows(p, r.peak, r.cpu_end - r.cpu_boot, r.load, f"peak qemu RSS, {len(r.peak)} samples")
    if r.inside:
        note = f"inside the VM: MemTotal - MemAvailable of {r.inside[0] / MIB:.0f} MiB"
        rows.append(measurement_row(p, "guest memory in use", r.inside[1] / MIB, "MiB", note=note))
    return rows
