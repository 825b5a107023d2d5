"""Docker for CI/CD practitioners: the course kit's library.

Notebooks import only from here. Names load lazily (PEP 562), so ``import helpers`` never
touches the engine, the network, the disk, or heavy libraries; each module loads on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import errors as _errors
from .errors import *  # noqa: F401,F403  (errors are cheap and always wanted)

#: public name -> module that defines it ("module:attribute" where the public name is an alias)
_EXPORTS: dict[str, str] = {
    # engine
    "get_client": "engine", "engine_available": "engine", "engine_info": "engine", "kit_labels": "engine",
    "cleanup": "engine", "LABEL": "engine",
    # environment
    "status_frame": "env", "base_image": "baseimages", "local_registry": "registry", "find_tool": "tools",
    # build
    "build": "build", "find_builder": "build", "BuildResult": "build",
    # layer analysis (dive-compatible figures plus the true ones)
    "analyze_layers": "layers", "analyze_archive": "layers", "LayerAnalysis": "layers",
    "read_archive": "archive", "save_image": "archive", "write_demo_archive": "archive_demo",
    "write_image_archive": "archive_demo", "evaluate_ci": "layers_ci", "load_ci_config": "layers_ci",
    "CI_DEFAULTS": "layers_ci", "dive_json": "dive", "lesson_sources": "layers_lab",
    "build_lesson_image": "layers_lab", "LESSON_DOCKERFILES": "layers_lab", 
    "plot_layer_stack": "plots_layers", "plot_wasted_paths": "plots_layers", "plot_top_dirs": "plots_layers",
    "plot_dive_vs_true": "plots_layers", "layer_explorer": "widgets_layers",
    # best-practice review
    "parse_dockerfile": "dockerfile", "read_dockerfile": "dockerfile", "review_dockerfile": "review",
    "findings_frame": "review", "COURSE_RULES": "review", "ReviewFinding": "review:Finding", "critique_widget": "widgets_review",
    # supply chain: bill of materials, advisories, scanning
    "image_sbom": "sbom", "Sbom": "sbom", "read_sbom_archive": "sbom",
    "dpkg_compare": "versions", "pep440_compare": "versions", "compare_versions": "versions",
    "load_snapshot": "advisories", "SEVERITIES": "advisories",
    "scan_image": "scan", "scan_sbom": "scan", "compare_scans": "scan", "ScanResult": "scan", "ScanFinding": "scan:Finding",
    "app_context": "remediation", "app_requirements": "remediation", "check_health": "remediation", "requirements_sbom": "remediation",
    "plot_severity": "plots_scan", "plot_scan_comparison": "plots_scan",
    # publishing, signing, build secrets
    "RegistryClient": "publish", "push": "publish", "login": "publish", "pull_by_digest": "publish",
    "PushResult": "publish",
    "generate_keypair": "sign", "sign_image": "sign", "verify_image": "sign", "signature_tag": "sign",
    "cosign_verify": "sign",
    "TokenIndex": "secrets", "make_private_wheel": "secrets", "find_secret_in_image": "secrets", "SECRET_DOCKERFILES": "secrets",
    "DEMO_TOKEN": "secrets", "build_secret_demo": "secrets",
    "bridge_gateway": "secrets",
    # CI pipeline (Lab 5), Compose, Kubernetes, BuildKit
    "check_workflow": "workflow", "load_workflow": "workflow", "WorkflowReport": "workflow",
    "run_pipeline": "pipeline", "build_from_workflow": "pipeline", "PipelineReport": "pipeline",
    "wait_healthy": "pipeline",
    "ComposeStack": "compose", "load_compose": "compose", "compose_cli": "compose",
    "prepare_sample_images": "compose", "smoke_test": "compose", "SAMPLE_COMPOSE": "compose",
    "compose_to_k8s": "k8s", "validate_manifest": "k8s", "manifests_yaml": "k8s",
    "timed_build": "buildkit", "cache_roundtrip": "buildkit", "prune_run_cache": "buildkit",
    "plot_build_timeline": "plots_ci", "plot_cache_roundtrip": "plots_ci", "plot_pipeline": "plots_ci",
    # instructor workflow and grading
    "course_dirs": "course", "release": "course", "collect": "course", "autograde": "course",
    "feedback": "course", "grades": "course", "check_submission": "course",
    "SandboxLimits": "sandbox", "run_in_sandbox": "sandbox", "grader_image": "sandbox",
    "read_facts": "grading", "load_spec": "grading", "engine_facts": "grading",
    "trusted_query": "queries", "GradingPending": "queries", "GradingRefused": "queries",
    "ensure_grading_engine": "grading_engine", "stop_grading_engine": "grading_engine",
    "plot_score_distribution": "plots_grades",
    "find_archive": "prebuilt", "course_mode": "mode", "CourseMode": "mode", "PREBUILT_CATALOG": "prebuilt:CATALOG",
    "catalog_image": "prebuilt", "export_images": "prebuilt", "read_manifest": "prebuilt",
    "image_facts": "images", "facts_from_archive": "images", "archive_layers": "archive_images",
    "files_present": "archive_images", "files_table": "archive_images", "shared_layers": "archive_images",
    "sharing_summary": "archive_images",
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
    # run, inspect, plots, widgets, sample app, Labs 1-2 checks (issue 3)
    "BuildStep": "build", "run_container": "run", "RunningContainer": "run", "SANDBOX_LIMITS": "run",
    "inspect_image": "images", "ImageFacts": "images", "compare_images": "images", "layers_frame": "images",
    "archive_digests": "digests", "ImageDigests": "digests", "push_archive": "digests",
    "secret_like_env": "images",
    "plot_image_sizes": "plots", "plot_build_times": "plots", "plot_layer_sizes": "plots", "plot_build_steps": "plots",
    "BuildProgress": "widgets",
    "build_sample_image": "sampleapp", "reference_dockerfile": "sampleapp", "measure_builds": "sampleapp",
    "app_dir": "sampleapp",
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

__all__ = sorted([*_EXPORTS, *_errors.__all__])


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    module, _, attr = target.partition(":")  # "module" or "module:attribute" (an alias)
    value = getattr(importlib.import_module(f".{module}", __name__), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
