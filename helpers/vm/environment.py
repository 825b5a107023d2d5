"""What the measurements ran on: engine, KVM or emulation, cores, memory, kernel.

Printed next to every table of figures, because start-up times and memory depend on the
machine (and a VM under software emulation is much slower than under KVM).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.engine.client import engine_info
from helpers.errors import EngineUnavailable

__all__ = ["describe_environment"]


def _host_memory_bytes() -> int:
    """Total memory of the host (``MemTotal``), 0 when /proc/meminfo cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def describe_environment(client: Any = None, vm_accel: str = "", qemu_version: str = "") -> Any:
    """What was measured on: engine version, KVM or emulation, cores, memory.

    Args:
        client: docker-py client; when no engine answers the row says so.
        vm_accel: "kvm", "tcg", or "" when no VM ran.
        qemu_version: qemu's version, when a VM ran.

    Returns:
        DataFrame with ``item`` and ``value``.
    """
    import os
    import platform

    import pandas as pd

    try:
        info = engine_info(client)
        engine = (
            f"Docker Engine {info.version} (API {info.api_version}), "
            f"{info.storage_driver}, cgroup v{info.cgroup_version}"
        )
    except EngineUnavailable:
        engine = "no engine answered"
    accel = {"kvm": "KVM (hardware virtualization)", "tcg": "TCG (software emulation: much slower than KVM)"}.get(
        vm_accel, "no VM was started"
    )
    rows = [
        ("engine", engine),
        ("VM acceleration", accel + (f", qemu {qemu_version}" if qemu_version else "")),
        ("CPU cores", str(os.cpu_count())),
        ("memory", f"{_host_memory_bytes() / 1024**3:.1f} GiB"),
        ("host kernel", platform.release()),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
