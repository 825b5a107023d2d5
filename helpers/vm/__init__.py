"""Containers versus VMs: measurements, load generation, the qemu VM, cost model, plots and widgets."""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "AppImage": "appimage",
    "COLUMNS": "results",
    "CostParams": "cost",
    "CpioWriter": "initramfs",
    "EXAMPLE_INSTANCES": "cost",
    "HOURS_PER_MONTH": "cost",
    "ImageConfig": "initramfs",
    "InstanceType": "cost",
    "LoadResult": "loadgen",
    "PRICE_SOURCE": "cost",
    "RunningVm": "qemu",
    "VM_PACKAGES": "tools",
    "VmImage": "vmimage",
    "VmTools": "tools",
    "build_vm_image": "vmimage",
    "container_usage": "usage",
    "cost_explorer": "widgets",
    "density": "cost",
    "describe_environment": "environment",
    "ensure_vm_tools": "tools",
    "figure": "cost",
    "find_vm_tools": "tools",
    "free_port": "loadgen",
    "guest_memory": "initramfs",
    "init_script": "initramfs",
    "loopback_load": "loadgen",
    "measure_app_image": "appimage",
    "measure_container": "measure",
    "measure_leftovers": "measure",
    "measure_vm": "qemu",
    "measurement_row": "results",
    "module_load_order": "initramfs",
    "monthly_cost": "cost",
    "plot_cost": "plots",
    "plot_density": "plots",
    "plot_memory": "plots",
    "plot_startup": "plots",
    "probe_kvm": "tools",
    "published_vm_figures": "results",
    "replicas_in_budget": "measure",
    "replicas_per_host": "cost",
    "run_vm": "qemu",
    "smallest_instance": "cost",
    "tar_to_initramfs": "initramfs",
    "vm_tools_available": "tools",
    "wait_for_http": "loadgen",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
