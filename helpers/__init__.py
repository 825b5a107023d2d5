"""Docker for CI/CD practitioners: the course kit's helpers.

Importing this package never touches the engine, the network or the disk.
"""

from .basecompare import (
    base_sizes,
    compiled_dependency_demo,
    dockerignore_demo,
    nonroot_demo,
    pinned_requirements,
    psycopg2_pin,
    tool_presence,
)
from .caching import DOCKERFILES, CachingDemo, image_layers, remove_images, run_caching_demo
from .diagrams import (
    build_steps_chart,
    client_daemon_registry,
    container_vs_vm,
    layer_stack,
    measured_bars,
    pipeline_map,
    status_timeline,
)
from .engine import cleanup, engine_available, engine_info, get_client, kit_labels
from .errors import CourseError, EngineUnavailable
from .hygiene import make_leftovers, prune_preview, prune_summary, system_df
from .isolation import KernelReport, inspect_isolation, measure_start_times, namespace_table
from .lessons import RunOutput, engine_status_line, lesson_image, run_once
from .registry import local_registry, registry_status
from .runtime import bind_mount_demo, env_inside, health_demo, memory_limit_demo, volume_demo
from .tracing import ApiCall, PushPullReport, calls_frame, push_pull_demo, trace_api, traced_container_run

__all__ = [
    # engine basics
    "get_client", "engine_available", "engine_info", "kit_labels", "cleanup", "CourseError", "EngineUnavailable",
    "local_registry", "registry_status",
    # lessons 01-07 (issue 4)
    "run_once", "RunOutput", "engine_status_line", "lesson_image",
    "client_daemon_registry", "layer_stack", "container_vs_vm", "build_steps_chart", "pipeline_map", "measured_bars", "status_timeline",
    "inspect_isolation", "namespace_table", "measure_start_times", "KernelReport",
    "run_caching_demo", "DOCKERFILES", "CachingDemo", "image_layers", "remove_images",
    "trace_api", "calls_frame", "traced_container_run", "push_pull_demo", "PushPullReport", "ApiCall",
    "env_inside", "bind_mount_demo", "volume_demo", "health_demo", "memory_limit_demo",
    "base_sizes", "tool_presence", "compiled_dependency_demo", "nonroot_demo", "dockerignore_demo",
    "pinned_requirements", "psycopg2_pin",
    "system_df", "prune_preview", "prune_summary", "make_leftovers",
]
