"""Containers versus virtual machines, shown live: what a container shares with the host
(the kernel) and what it gets of its own (namespaces, a cgroup), and how fast it starts.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.client import engine_info, get_client
from helpers.lessons.common import lesson_image, run_once

__all__ = ["KernelReport", "inspect_isolation", "parse_namespaces", "namespace_table", "measure_start_times"]

_PROBE = r"""
echo "== uname"; uname -r
echo "== ns"; ls -l /proc/self/ns
echo "== cgroup"; cat /proc/self/cgroup
echo "== memlimit"; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max
echo "== pids"; ls /proc | grep -E '^[0-9]+$' | wc -l
echo "== hostname"; hostname
"""
_NS = re.compile(r"(\w+) -> (\w+):\[(\d+)\]")


@dataclass
class KernelReport:
    """What one container reported about itself, next to the host's view.

    Attributes:
        container_kernel: ``uname -r`` inside the container.
        engine_kernel: The kernel the engine reports (the host running the containers).
        notebook_kernel: The kernel of the machine running this notebook.
        container_ns: namespace -> inode inside the container.
        host_ns: namespace -> inode of the notebook's own process (empty if not Linux).
        cgroup: ``/proc/self/cgroup`` lines inside the container.
        memory_limit: The memory limit the container's cgroup shows (bytes, or "max").
        memory_limit_set: The limit that was requested with ``mem_limit`` (bytes).
        processes_visible: How many processes the container can see in /proc.
        hostname: The container's hostname (its own UTS namespace).
    """

    container_kernel: str
    engine_kernel: str
    notebook_kernel: str
    container_ns: dict[str, int] = field(default_factory=dict)
    host_ns: dict[str, int] = field(default_factory=dict)
    cgroup: list[str] = field(default_factory=list)
    memory_limit: str = ""
    memory_limit_set: int = 0
    processes_visible: int = 0
    hostname: str = ""

    @property
    def same_kernel(self) -> bool:
        return self.container_kernel == self.engine_kernel


def parse_namespaces(listing: str) -> dict[str, int]:
    """Parse ``ls -l /proc/self/ns`` into namespace -> inode (``*_for_children`` left out)."""
    return {m.group(1): int(m.group(3)) for m in _NS.finditer(listing) if not m.group(1).endswith("_for_children")}


def _sections(output: str) -> dict[str, str]:
    out: dict[str, str] = {}
    key = ""
    for line in output.splitlines():
        if line.startswith("== "):
            key = line[3:].strip()
            out[key] = ""
        elif key:
            out[key] += line + "\n"
    return {k: v.strip() for k, v in out.items()}


def _host_namespaces() -> dict[str, int]:
    ns = Path("/proc/self/ns")
    if not ns.is_dir():
        return {}
    out: dict[str, int] = {}
    for p in ns.iterdir():
        m = re.match(r"(\w+):\[(\d+)\]", os.readlink(p))
        if m and not p.name.endswith("_for_children"):
            out[p.name] = int(m.group(2))
    return out


def inspect_isolation(mem_limit: int = 64 * 1024 * 1024, image: str | None = None, client: Any = None) -> KernelReport:
    """Run one container with a memory limit and collect what it sees of the machine.

    Args:
        mem_limit: Memory limit to give the container (bytes), to find it in its cgroup.
        image: Image to run (default: the slim Python base).
        client: docker-py client (connects lazily).

    Returns:
        A :class:`KernelReport`.
    """
    c = get_client(client)
    run = run_once(_PROBE, image=image, client=c, check=True, mem_limit=mem_limit)
    s = _sections(run.output)
    return KernelReport(
        container_kernel=s.get("uname", ""),
        engine_kernel=engine_info(c).kernel,
        notebook_kernel=platform.release(),
        container_ns=parse_namespaces(s.get("ns", "")),
        host_ns=_host_namespaces(),
        cgroup=s.get("cgroup", "").splitlines(),
        memory_limit=s.get("memlimit", ""),
        memory_limit_set=mem_limit,
        processes_visible=int(s.get("pids", "0") or 0),
        hostname=s.get("hostname", ""),
    )


def namespace_table(report: KernelReport) -> Any:
    """A DataFrame: namespace, inode inside the container, inode of this notebook, shared?"""
    import pandas as pd

    rows = [
        {"namespace": ns, "container": ino, "notebook": report.host_ns.get(ns), "shared": report.host_ns.get(ns) == ino}
        for ns, ino in sorted(report.container_ns.items())
    ]
    return pd.DataFrame(rows, columns=["namespace", "container", "notebook", "shared"])


def measure_start_times(n: int = 5, image: str | None = None, client: Any = None) -> Any:
    """Start ``n`` containers one after the other (each runs ``true``) and time them.

    Returns:
        A DataFrame with one row per run: ``run``, ``seconds`` (create + start + exit),
        and ``exit_code``.
    """
    import pandas as pd

    c = get_client(client)
    image = image or lesson_image(client=c)
    rows = []
    for k in range(n):
        r = run_once(["true"], image=image, client=c)
        rows.append({"run": k + 1, "seconds": r.seconds, "exit_code": r.exit_code})
    return pd.DataFrame(rows, columns=["run", "seconds", "exit_code"])
