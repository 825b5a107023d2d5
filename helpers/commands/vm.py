"""`python -m helpers vm ...`: install the VM tools, probe KVM, measure container versus VM."""

from __future__ import annotations

import argparse

from helpers.vm import (
    AppImage,
    describe_environment,
    ensure_vm_tools,
    find_vm_tools,
    measure_app_image,
    measure_container,
    measure_vm,
    probe_kvm,
)

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.vm.qemu and helpers.vm.measure"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "vm",
        help="containers versus VMs: install qemu and a kernel, probe KVM, measure",
        description="Install the VM tools, check KVM, or measure the app as a container and as a VM.",
    )
    sub = p.add_subparsers(dest="vm_command", metavar="ACTION", required=True)
    s = sub.add_parser("setup", help="install qemu, a kernel and busybox from Debian (root)")
    s.set_defaults(func=run)
    s = sub.add_parser("probe", help="show the VM tools found and whether KVM works here (else TCG)")
    s.set_defaults(func=run)
    s = sub.add_parser("measure", help="measure the app as a container and as a VM, print the figures")
    s.add_argument("--image", help="image to measure (default: the course's measurement image, built if needed)")
    s.add_argument("--port", type=int, default=8000, help="port the app listens on (default 8000)")
    s.add_argument("--path", default="/health", help="path that answers 200 when the app is up")
    s.add_argument("--no-vm", action="store_true", help="measure the container only")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.vm_command == "setup":
        tools = ensure_vm_tools()
        print(f"qemu {tools.qemu_version} at {tools.qemu}; kernel {tools.kernel}; busybox {tools.busybox}")
        return 0
    if args.vm_command == "probe":
        tools = find_vm_tools()
        print(f"qemu {tools.qemu_version} at {tools.qemu}; kernel {tools.kernel}; busybox {tools.busybox}")
        print("KVM works" if probe_kvm() else "KVM does not work here: VMs run under TCG (software emulation)")
        return 0
    import pandas as pd

    app = AppImage(args.image, args.port, args.path) if args.image else measure_app_image()
    frames = [measure_container(app)]
    accel = qemu = ""
    if not args.no_vm:
        vm = measure_vm(app)
        accel, qemu = vm.attrs["accel"], find_vm_tools().qemu_version
        frames.append(vm)
    print(describe_environment(vm_accel=accel, qemu_version=qemu).to_string(index=False))
    print(pd.concat(frames)[["platform", "metric", "value", "unit", "note"]].to_string(index=False))
    return 0
