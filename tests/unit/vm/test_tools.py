"""Unit tests for helpers.vm.tools: finding the tools and the cached KVM probe (no VM booted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import helpers.vm.tools as vt
from helpers.errors import ToolMissing


def test_missing_qemu_says_how_to_install(monkeypatch):
    """Without qemu on PATH, is the error ToolMissing with the setup command in its hint?"""
    monkeypatch.setattr(vt.shutil, "which", lambda name: None)
    with pytest.raises(ToolMissing) as e:
        vt.find_vm_tools()
    assert "python -m helpers vm setup" in e.value.hint
    assert not vt.vm_tools_available()


def test_probe_without_kvm_access_is_false_without_booting(monkeypatch):
    """When /dev/kvm cannot be opened, is the answer False at once (no qemu started)?"""
    vt.probe_kvm.cache_clear()
    monkeypatch.setattr(vt.os, "access", lambda path, mode: False if path == "/dev/kvm" else True)
    monkeypatch.setattr(vt, "_boot_probe", lambda *a: pytest.fail("booted a probe VM"))
    assert vt.probe_kvm() is False
    vt.probe_kvm.cache_clear()


def test_probe_answer_is_cached_in_the_state_dir(monkeypatch, tmp_path):
    """Is a probe answer stored per host and qemu, and reused without booting again?"""
    vt.probe_kvm.cache_clear()
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(vt.os.path, "exists", lambda p: True)
    monkeypatch.setattr(vt.os, "access", lambda path, mode: True)
    tools = vt.VmTools(
        "/usr/bin/qemu-system-x86_64", Path("/boot/vmlinuz-x"), Path("/lib/modules/x"), Path("/bin/busybox")
    )
    monkeypatch.setattr(vt, "find_vm_tools", lambda: tools)
    calls = []
    monkeypatch.setattr(vt, "_boot_probe", lambda t, timeout: calls.append(1) or True)
    assert vt.probe_kvm() is True
    vt.probe_kvm.cache_clear()
    assert vt.probe_kvm() is True
    assert calls == [1]
    assert json.loads((tmp_path / "kvm-probe.json").read_text()) == {vt._probe_cache_key(tools): True}
    vt.probe_kvm.cache_clear()
