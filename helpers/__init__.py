"""Docker for CI/CD practitioners: the course kit's library.

Notebooks import only from here. Names load lazily (PEP 562), so ``import helpers`` never
touches the engine, the network, the disk, or heavy libraries; each module loads on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import (  # noqa: F401  (errors are cheap and always wanted)
    BuildError,
    ContainerError,
    CourseError,
    DockerfileError,
    EngineUnavailable,
    HealthTimeout,
    ImageNotFound,
    NotAnImageArchive,
    PortInUse,
    RegistryAuthError,
    RegistryError,
    SetupError,
    ToolMissing,
)

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # engine
    "get_client": "engine", "engine_available": "engine", "engine_info": "engine", "kit_labels": "engine",
    "cleanup": "engine", "LABEL": "engine",
    # environment
    "status_frame": "env", "base_image": "baseimages", "local_registry": "registry", "find_tool": "tools",
    # build
    "build": "build", "find_builder": "build", "BuildResult": "build",
    # containers versus VMs: measurements, VM, cost, plots, widgets (issue 8)
    "AppImage": "measure", "measure_app_image": "measure", "measure_container": "measure",
    "replicas_in_budget": "measure", "describe_environment": "measure", "measure_leftovers": "measure",
    "VM_PACKAGES": "vmtools", "ensure_vm_tools": "vmtools", "find_vm_tools": "vmtools",
    "vm_tools_available": "vmtools", "probe_kvm": "vmtools",
    "measure_vm": "vm", "published_vm_figures": "vm",
    "InstanceType": "cost", "EXAMPLE_INSTANCES": "cost", "PRICE_SOURCE": "cost", "CostParams": "cost",
    "figure": "cost", "monthly_cost": "cost", "density": "cost",
    "plot_startup": "plots_vm", "plot_memory": "plots_vm", "plot_density": "plots_vm", "plot_cost": "plots_vm",
    "cost_explorer": "widgets_vm",
}

__all__ = sorted(
    [*_EXPORTS, "BuildError", "ContainerError", "CourseError", "DockerfileError", "EngineUnavailable", "HealthTimeout",
     "ImageNotFound", "NotAnImageArchive", "PortInUse", "RegistryAuthError", "RegistryError", "SetupError", "ToolMissing"]
)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
