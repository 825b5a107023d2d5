"""Unit tests for helpers.vm.usage: reading a container's memory and CPU from cgroup files."""

from __future__ import annotations

from types import SimpleNamespace

import helpers.vm.usage as usage


def test_cgroup_v2_files_are_read_without_page_cache(tmp_path, monkeypatch):
    """Is memory.current less inactive_file reported, and cpu.stat's usage_usec turned into seconds?"""
    d = tmp_path / "system.slice" / "docker-abc.scope"
    d.mkdir(parents=True)
    (d / "memory.current").write_text("10485760\n")
    (d / "memory.stat").write_text("anon 8000000\ninactive_file 2097152\nactive_file 1\n")
    (d / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    monkeypatch.setattr(usage, "_CGROUP", tmp_path)
    used, cpu = usage.container_usage(SimpleNamespace(id="abc"))
    assert used == 10485760 - 2097152
    assert cpu == 1.5


def test_cgroup_v1_files_are_read(tmp_path, monkeypatch):
    """Under cgroup v1, is total_inactive_file subtracted and cpuacct.usage (ns) turned into seconds?"""
    mem, cpu = tmp_path / "memory/docker/abc", tmp_path / "cpuacct/docker/abc"
    mem.mkdir(parents=True)
    cpu.mkdir(parents=True)
    (mem / "memory.usage_in_bytes").write_text("5000\n")
    (mem / "memory.stat").write_text("cache 3000\ntotal_inactive_file 1000\n")
    (cpu / "cpuacct.usage").write_text("2000000000\n")
    monkeypatch.setattr(usage, "_CGROUP", tmp_path)
    assert usage.container_usage(SimpleNamespace(id="abc")) == (4000, 2.0)


def test_stats_api_is_the_fallback(tmp_path, monkeypatch):
    """With no cgroup files (a remote engine), are the stats API's counters used the same way?"""
    monkeypatch.setattr(usage, "_CGROUP", tmp_path)
    stats = {
        "memory_stats": {"usage": 9000, "stats": {"inactive_file": 1000}},
        "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000_000}},
    }
    fake = SimpleNamespace(id="abc", stats=lambda stream, one_shot: stats)
    assert usage.container_usage(fake) == (8000, 3.0)
