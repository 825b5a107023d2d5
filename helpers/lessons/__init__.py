"""The lessons' demonstrations (notebooks 01-07): isolation, caching, tracing, runtime, base images, hygiene, diagrams.

Plots get their Axes from :func:`helpers.figures.axes`.
"""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ApiCall": "tracing",
    "BindMountResult": "runtime",
    "CachingDemo": "caching",
    "CompiledDepResult": "basecompare",
    "DOCKERFILES": "caching",
    "DemoLeftovers": "hygiene",
    "HealthResult": "runtime",
    "KernelReport": "isolation",
    "MemoryResult": "runtime",
    "NEUTRAL": "diagrams",
    "PALETTE": "diagrams",
    "PushPullReport": "tracing",
    "RunOutput": "common",
    "VolumeResult": "runtime",
    "base_sizes": "basecompare",
    "bind_mount_demo": "runtime",
    "build_steps_chart": "plots",
    "calls_frame": "tracing",
    "client_daemon_registry": "diagrams",
    "compiled_dependency_demo": "basecompare",
    "container_vs_vm": "diagrams",
    "dockerignore_demo": "basecompare",
    "engine_status_line": "common",
    "env_inside": "runtime",
    "health_demo": "runtime",
    "image_layers": "caching",
    "inspect_isolation": "isolation",
    "layer_stack": "diagrams",
    "lesson_image": "common",
    "lesson_tag": "common",
    "make_leftovers": "hygiene",
    "measure_start_times": "isolation",
    "measured_bars": "plots",
    "memory_limit_demo": "runtime",
    "namespace_table": "isolation",
    "neutralize": "diagrams",
    "nonroot_demo": "basecompare",
    "parse_namespaces": "isolation",
    "pinned_requirements": "basecompare",
    "pipeline_map": "diagrams",
    "prune_preview": "hygiene",
    "prune_summary": "hygiene",
    "psycopg2_pin": "basecompare",
    "push_pull_demo": "tracing",
    "remove_images": "caching",
    "run_caching_demo": "caching",
    "run_once": "common",
    "runtime_map": "diagrams",
    "status_timeline": "plots",
    "system_df": "hygiene",
    "tool_presence": "basecompare",
    "trace_api": "tracing",
    "traced_container_run": "tracing",
    "volume_demo": "runtime",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
