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
    # instructor workflow and grading
    "course_dirs": "course", "release": "course", "collect": "course", "autograde": "course",
    "feedback": "course", "grades": "course", "check_submission": "course",
    "SandboxLimits": "sandbox", "run_in_sandbox": "sandbox", "grader_image": "sandbox",
    "read_facts": "grading", "load_spec": "grading", "engine_facts": "grading",
    "plot_score_distribution": "plots_grades",
    "find_archive": "prebuilt", "export_images": "prebuilt", "read_manifest": "prebuilt",
    # lessons 01-07 (issue 4)
    "run_once": "lessons", "RunOutput": "lessons", "lesson_tag": "lessons", "engine_status_line": "lessons", "lesson_image": "lessons",
    "client_daemon_registry": "diagrams", "layer_stack": "diagrams", "container_vs_vm": "diagrams",
    "build_steps_chart": "plots_lessons", "pipeline_map": "diagrams", "runtime_map": "diagrams", "measured_bars": "plots_lessons",
    "status_timeline": "plots_lessons",
    "inspect_isolation": "isolation", "namespace_table": "isolation", "measure_start_times": "isolation",
    "KernelReport": "isolation",
    "run_caching_demo": "caching", "DOCKERFILES": "caching", "CachingDemo": "caching", "image_layers": "caching",
    "remove_images": "caching",
    "trace_api": "tracing", "calls_frame": "tracing", "traced_container_run": "tracing", "push_pull_demo": "tracing",
    "PushPullReport": "tracing", "ApiCall": "tracing",
    "env_inside": "runtime", "bind_mount_demo": "runtime", "volume_demo": "runtime", "health_demo": "runtime",
    "memory_limit_demo": "runtime",
    "base_sizes": "basecompare", "tool_presence": "basecompare", "compiled_dependency_demo": "basecompare",
    "nonroot_demo": "basecompare", "dockerignore_demo": "basecompare", "pinned_requirements": "basecompare",
    "psycopg2_pin": "basecompare",
    "system_df": "hygiene", "prune_preview": "hygiene", "prune_summary": "hygiene", "make_leftovers": "hygiene",
    "registry_status": "registry",
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
