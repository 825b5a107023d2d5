"""Build, run and inspect images; the one BuildKit progress parser (``progress``) and health waiter (``health``)."""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "BuildProgress": "widgets",
    "BuildResult": "buildmodel",
    "BuildSpec": "buildmodel",
    "BuildStep": "buildmodel",
    "Builder": "builders",
    "ExecResult": "running",
    "GroupHealth": "health",
    "HealthState": "health",
    "HealthWait": "health",
    "HttpAnswer": "running",
    "ImageFacts": "inspect",
    "Layer": "inspect",
    "LineCallback": "buildmodel",
    "PlainProgress": "progress",
    "ProgressLine": "progress",
    "RunningContainer": "running",
    "SANDBOX_LIMITS": "run",
    "StepProgress": "progress",
    "build": "build",
    "buildkit_build": "buildkit",
    "buildkit_command": "buildkit",
    "compare_images": "inspect",
    "container_health": "health",
    "ensure_base_images": "provision",
    "facts_from_archive": "inspect",
    "facts_from_attrs": "inspect",
    "find_builder": "builders",
    "http_get": "running",
    "image_facts": "inspect",
    "inspect_image": "inspect",
    "layers_frame": "inspect",
    "legacy_build": "legacy_build",
    "log_tail": "health",
    "parse_line": "progress",
    "parse_plain_progress": "progress",
    "plot_build_steps": "plots",
    "plot_build_times": "plots",
    "plot_image_sizes": "plots",
    "plot_layer_sizes": "plots",
    "port_free": "running",
    "remove_container": "running",
    "run_container": "run",
    "attach_container": "run",
    "secret_like_env": "inspect",
    "settled": "health",
    "wait_group_health": "health",
    "wait_health": "health",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
