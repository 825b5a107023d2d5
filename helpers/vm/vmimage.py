"""Make a bootable VM from a container image: its exported filesystem as an initramfs.

The VM runs the very files the container runs: ``docker export`` of a container made from
the image (never started), packed by :mod:`helpers.vm.initramfs` with the virtio modules the
guest needs, next to a Debian kernel. :mod:`helpers.vm.qemu` boots what this module builds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client, kit_labels
from helpers.errors import ImageNotFound, SetupError, ToolMissing
from helpers.vm.initramfs import ImageConfig, module_load_order, tar_to_initramfs
from helpers.vm.tools import VmTools, find_vm_tools

__all__ = ["VmImage", "build_vm_image"]

#: Kernel modules the guest loads to reach the network (virtio-net on PCI).
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
