"""Benchmark: the same image as a container and as a qemu VM, measured side by side in one run.

Run: ``python bench/container_vs_vm.py [IMAGE]`` (default: the course's measurement image).
Prints the environment, both sets of figures and the VM/container ratios. Not a test.
"""

from __future__ import annotations

import sys

import pandas as pd

import helpers


def main() -> int:
    app = helpers.AppImage(sys.argv[1]) if len(sys.argv) > 1 else helpers.measure_app_image()
    container = helpers.measure_container(app, load_seconds=3)
    vm = helpers.measure_vm(app, load_seconds=3)
    env = helpers.describe_environment(vm_accel=vm.attrs["accel"], qemu_version=helpers.find_vm_tools().qemu_version)
    print(env.to_string(index=False, header=False))
    wide = pd.concat([container, vm]).pivot_table(index="metric", columns="platform", values="value", sort=False)
    wide["vm / container"] = wide["vm"] / wide["container"]
    print(wide.round(2).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
