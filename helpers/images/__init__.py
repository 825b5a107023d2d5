"""Build, run and inspect images: the one BuildKit progress parser (``progress``) and the one health waiter (``health``)."""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "BuildProgress": "widgets",
    "BuildResult": "build",
    "BuildStep": "build",
    "Builder": "build",
    "ExecResult": "run",
    "HttpAnswer": "run",
    "ImageFacts": "inspect",
    "Layer": "inspect",
    "RunningContainer": "run",
    "SANDBOX_LIMITS": "run",
    "build": "build",
    "compare_images": "inspect",
    "facts_from_archive": "inspect",
    "facts_from_attrs": "inspect",
    "find_builder": "build",
    "image_facts": "inspect",
    "inspect_image": "inspect",
    "layers_frame": "inspect",
    "official_arg_defaults": "build",
    "plot_build_steps": "plots",
    "plot_build_times": "plots",
    "plot_image_sizes": "plots",
    "plot_layer_sizes": "plots",
    "port_free": "run",
    "run_container": "run",
    "secret_like_env": "inspect",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
