"""Run the same image filesystem as a virtual machine with qemu, and measure it.

The VM is built from the very image a container runs: ``docker export`` of a container
made from it, packed as an initramfs (see :mod:`helpers.vm.initramfs`) with a Debian kernel.
qemu boots it with KVM when KVM works here (probed with a short timeout), else with
software emulation (TCG), and forwards a free loopback port to the app (user-mode
networking). Every step has a timeout; the VM is always stopped and its files removed.

Where no VM can be started, :func:`published_vm_figures` gives Firecracker's published
figures, labelled ``source="published"`` with their source; they are never measurements.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client, kit_labels
from helpers.errors import HealthTimeout, ImageNotFound, SetupError, ToolMissing
from helpers.vm.initramfs import ImageConfig, guest_memory, module_load_order, tar_to_initramfs
from helpers.vm.loadgen import free_port, loopback_load, wait_for_http
from helpers.vm.measure import COLUMNS, MIB, AppImage, measurement_row
from helpers.vm.tools import (
    VM_PACKAGES,
    VmTools,
    _qemu_base,
    ensure_vm_tools,
    find_vm_tools,
    probe_kvm,
    vm_tools_available,
)

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

VIRTIO_MODULES = ["virtio_pci", "virtio_net"]


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


def build_vm_image(
    image: str, workdir: Path, tools: VmTools | None = None, client: Any = None, timeout: float = 300
) -> VmImage:
    """Export an image's filesystem and pack it as an initramfs in ``workdir``.

    The helper container made for ``docker export`` is never started and is removed.

    Raises:
        ImageNotFound: The image is not on the engine.
        ToolMissing: No qemu, kernel or busybox.
    """
    from docker.errors import ImageNotFound as _NF

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
                    raise SetupError(
                        f"Exporting {image} took more than {timeout:.0f} s.", "Try again on a quieter machine."
                    )
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

    def guest_memory(self) -> tuple[int, int] | None:
        """(total, in use) bytes as the guest's own kernel last reported them, if it did."""
        try:
            return guest_memory(self.serial_log.read_text(errors="replace"))
        except OSError:
            return None

    def console_tail(self, lines: int = 15) -> str:
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
    cmd = _qemu_base(tools, accel, mem_mib, vm.initramfs, serial, cpus) + [
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
        needed = int(3 * vm.initramfs.stat().st_size / MIB) + 64
        if mem_mib < needed:
            raise SetupError(
                f"{mem_mib} MiB of guest memory cannot hold this image as an initramfs "
                f"({vm.initramfs.stat().st_size / MIB:.0f} MiB, unpacked in RAM).",
                f"Give the VM at least {needed} MiB (mem_mib={needed}).",
            )
        with run_vm(vm, app.port, accel, mem_mib, tools=tools) as running:
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
            boot = time.monotonic() - running.started
            time.sleep(idle_seconds)
            idle, cpu_boot = running.rss_bytes(), running.cpu_seconds()
            peak = [idle]
            load = (
                loopback_load(
                    running.host_port,
                    app.path,
                    load_seconds,
                    concurrency,
                    on_tick=lambda: peak.append(running.rss_bytes()),
                )
                if load_seconds > 0
                else None
            )
            cpu_end = running.cpu_seconds()
            peak.append(running.rss_bytes())
            time.sleep(1.2)  # the guest prints its memory every second
            inside = running.guest_memory()
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
            measurement_row(
                p, "requests per second", load.per_second, "req/s", note=f"{load.requests} ok, {load.errors} errors"
            ),
        ]
    if inside:
        rows.append(
            measurement_row(
                p,
                "guest memory in use",
                inside[1] / MIB,
                "MiB",
                note=f"inside the VM: MemTotal - MemAvailable of {inside[0] / MIB:.0f} MiB",
            )
        )
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
        measurement_row(
            p,
            "start-up",
            0.125,
            "s",
            src,
            "<= 125 ms from InstanceStart to guest /sbin/init (the app's own start-up comes on top); " + note,
        ),
        measurement_row(
            p, "memory overhead", 5, "MiB", src, "<= 5 MiB for the VMM threads, plus the guest's own memory; " + note
        ),
        measurement_row(p, "guest memory", 256, "MiB", src, "memory given to the guest in that specification; " + note),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)
