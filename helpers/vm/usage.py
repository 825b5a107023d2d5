"""What a running container uses right now: memory without page cache, and CPU seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["container_usage"]

_CGROUP = Path("/sys/fs/cgroup")


def _cgroup_dirs(cid: str) -> tuple[Path, Path, int] | None:
    """(memory dir, cpu dir, cgroup version) of a container on this host, when readable."""
    for mem, cpu in ((_CGROUP / "memory/docker" / cid, _CGROUP / "cpuacct/docker" / cid),):
        if (mem / "memory.usage_in_bytes").exists() and (cpu / "cpuacct.usage").exists():
            return mem, cpu, 1
    for d in (_CGROUP / "system.slice" / f"docker-{cid}.scope", _CGROUP / "docker" / cid):
        if (d / "memory.current").exists() and (d / "cpu.stat").exists():
            return d, d, 2
    return None


def _memory_stat(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in text.splitlines() if len(line.split()) == 2)}


def _without_cache(usage: int, stat: dict[str, Any]) -> int:
    cache = stat.get("total_inactive_file", stat.get("inactive_file", stat.get("cache", 0)))
    return max(int(usage) - int(cache or 0), 0)


def container_usage(container: Any) -> tuple[int, float]:
    """(memory in use without page cache, CPU seconds) of a running container.

    Read from the container's cgroup files when the engine runs on this host (instant), else
    from the engine's stats API (the same counters, about a second per call).
    """
    dirs = _cgroup_dirs(container.id)
    if dirs:
        mem, cpu, version = dirs
        try:
            if version == 1:
                usage = int((mem / "memory.usage_in_bytes").read_text())
                used = _without_cache(usage, _memory_stat((mem / "memory.stat").read_text()))
                return used, int((cpu / "cpuacct.usage").read_text()) / 1e9
            used = _without_cache(
                int((mem / "memory.current").read_text()), _memory_stat((mem / "memory.stat").read_text())
            )
            return used, _memory_stat((cpu / "cpu.stat").read_text()).get("usage_usec", 0) / 1e6
        except (OSError, ValueError):
            pass
    try:
        s = container.stats(stream=False, one_shot=True)
    except TypeError:  # older docker-py
        s = container.stats(stream=False)
    mem_stats = s.get("memory_stats", {}) or {}
    used = _without_cache(int(mem_stats.get("usage", 0)), mem_stats.get("stats", {}) or {})
    cpu_s = (s.get("cpu_stats", {}).get("cpu_usage", {}) or {}).get("total_usage", 0) / 1e9
    return used, cpu_s
