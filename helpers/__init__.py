"""The course kit's public API (notebooks import only from here)."""

from .cost import EXAMPLE_INSTANCES, PRICE_SOURCE, CostParams, InstanceType, density, figure, monthly_cost
from .engine import engine_available
from .measure import (
    AppImage,
    measure_leftovers,
    describe_environment,
    measure_app_image,
    measure_container,
    replicas_in_budget,
)
from .plots_vm import plot_cost, plot_density, plot_memory, plot_startup
from .vm import (
    VM_PACKAGES,
    ensure_vm_tools,
    find_vm_tools,
    measure_vm,
    probe_kvm,
    published_vm_figures,
    vm_tools_available,
)
from .widgets_vm import cost_explorer

__all__ = [
    # containers versus VMs (issue 8)
    "AppImage",
    "measure_app_image",
    "measure_container",
    "replicas_in_budget",
    "measure_leftovers",
    "engine_available",
    "describe_environment",
    "VM_PACKAGES",
    "ensure_vm_tools",
    "find_vm_tools",
    "vm_tools_available",
    "probe_kvm",
    "measure_vm",
    "published_vm_figures",
    "InstanceType",
    "EXAMPLE_INSTANCES",
    "PRICE_SOURCE",
    "CostParams",
    "figure",
    "monthly_cost",
    "density",
    "plot_startup",
    "plot_memory",
    "plot_density",
    "plot_cost",
    "cost_explorer",
]
