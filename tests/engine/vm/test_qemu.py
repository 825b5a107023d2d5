"""Engine tests for helpers.vm.qemu: a real VM booted from a real image, measured and removed.

In CI (``CI`` or ``COURSE_REQUIRE_ENGINE`` set) missing VM tools are installed when root
(:func:`helpers.vm.ensure_vm_tools`) and a failure to find them fails the test, never skips it.
"""

from __future__ import annotations

import glob
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from ci_rules import engine_required

from helpers.engine.client import session_id
from helpers.errors import CourseError
from helpers.vm.appimage import measure_app_image
from helpers.vm.qemu import measure_vm
from helpers.vm.results import published_vm_figures
from helpers.vm.tools import ensure_vm_tools, find_vm_tools, probe_kvm, vm_tools_available
from helpers.vm.vmimage import build_vm_image

pytestmark = [pytest.mark.engine, pytest.mark.slow]


@pytest.fixture(scope="module")
def tools():
    if not vm_tools_available():
        if not engine_required():
            pytest.skip("qemu, a kernel or busybox is missing: `python -m helpers vm setup`")
        try:
            ensure_vm_tools(log=lambda s: None)
        except CourseError as e:
            pytest.fail(f"VM tools missing in CI: {e}")
    return find_vm_tools()


@pytest.fixture(scope="module")
def app(engine):
    return measure_app_image(engine, tag=f"course-measure/test-vm:{session_id()}")


def _qemu_pids() -> set[str]:
    """Pids of qemu processes started for a course VM (their command line names a course-vm- folder)."""
    pids = set()
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"qemu-system" in cmdline and b"course-vm-" in cmdline:
            pids.add(proc.name)
    return pids


def test_build_vm_image_packs_the_image_files(engine, tools, app, tmp_path):
    """Does the initramfs hold the app's own files plus /init, and is it about the image's size?"""
    vm = build_vm_image(app.ref, tmp_path, tools, engine)
    listing = subprocess.run(
        ["cpio", "-it", "--quiet"], stdin=open(vm.initramfs, "rb"), capture_output=True, text=True, check=True
    ).stdout.split()
    assert "init" in listing and ".vm/busybox" in listing
    assert any(name.startswith("srv/app/") for name in listing)
    image_size = engine.images.get(app.ref).attrs["Size"]
    assert 0.5 * image_size < vm.initramfs.stat().st_size < 2 * image_size
    assert not (tmp_path / "rootfs.tar").exists()


def test_measure_vm_boots_and_answers_http(engine, tools, app):
    """Does a VM made from the image answer HTTP 200, report qemu's memory, and leave no qemu or files behind?"""
    before = _qemu_pids()
    tmp_before = set(glob.glob(str(Path(tempfile.gettempdir()) / "course-vm-*")))
    df = measure_vm(app, engine, boot_timeout=150, idle_seconds=1, load_seconds=2)
    v = df.set_index("metric")["value"]
    assert df.attrs["accel"] in ("kvm", "tcg")
    assert df.attrs["accel"] == ("kvm" if probe_kvm() else "tcg")
    assert 0 < v["start-up"] < 150
    assert v["memory idle"] > 100  # a whole guest: kernel, page cache, the initramfs
    assert v["requests per second"] > 0
    assert 10 < v["guest memory in use"] < v["memory idle"]  # the guest uses part of what qemu holds
    assert _qemu_pids() <= before
    assert set(glob.glob(str(Path(tempfile.gettempdir()) / "course-vm-*"))) <= tmp_before


def test_published_figures_are_labelled():
    """Are Firecracker's figures marked published, with their source, and never measured?"""
    df = published_vm_figures()
    assert set(df["source"]) == {"published"}
    assert df["note"].str.contains("firecracker-microvm/firecracker").all()


def test_qemu_dies_with_the_python_process(engine, tools, app, tmp_path):
    """If the Python process that started a VM is killed, does its qemu go too (nothing left running)?"""
    import signal
    import sys
    import time

    script = tmp_path / "starter.py"
    script.write_text(f"""
import sys, time
from pathlib import Path
from helpers.vm import build_vm_image, run_vm
vm = build_vm_image({app.ref!r}, Path({str(tmp_path)!r}))
with run_vm(vm, 8000, accel="tcg") as r:
    print(r.process.pid, flush=True)
    time.sleep(120)
""")
    starter = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        qemu_pid = int(starter.stdout.readline())
        assert Path(f"/proc/{qemu_pid}").exists()
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)
        for _ in range(50):
            if not Path(f"/proc/{qemu_pid}").exists() or "Z" in Path(f"/proc/{qemu_pid}/stat").read_text().split()[2]:
                break
            time.sleep(0.1)
        else:
            os.kill(qemu_pid, signal.SIGKILL)
            pytest.fail("qemu kept running after its parent was killed")
    finally:
        starter.kill()
