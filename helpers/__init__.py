"""Docker for CI/CD practitioners: the course kit's library.

Notebooks import only from here (the names students' notebooks use); instructor names live in
:mod:`helpers.grading`. Names load lazily (PEP 562), so ``import helpers`` never touches the engine,
the network, the disk, or heavy libraries; each module loads on first use.

Where things are (each subpackage's ``__init__`` names the module behind every public name):

- ``engine/``: the Docker Engines the kit talks to and provisions. ``env.up()`` starts the lab
  engine through ``daemon.py`` (the one dockerd starter); ``registry.py``, ``baseimages.py``, ``tools.py``.
- ``images/``: build (``build.py``), run, inspect; the one BuildKit progress parser and health waiter.
- ``archive/``: the one reader of ``docker save`` archives and OCI layouts (``reader.py``).
- ``layers/``: ``analysis.py`` (``analyze_layers``: dive's figures) and ``filetree.py`` (``true_waste``: the bytes
  a later layer hides); CI rules, plots, widgets.
- ``review/``: the one Dockerfile parser (``dockerfile.py``) and the review rules.
- ``supplychain/``: SBOM, advisories, scanning, remediation, publishing, signing, tags, digests, secrets.
- ``ci/``: workflow checks, the local pipeline, BuildKit cache, Compose, Kubernetes.
- ``lessons/``, ``vm/``: the lessons' demonstrations; containers versus VMs (measurement, qemu, cost).
- ``grading/``: the instructor's side: nbgrader steps (``course.py``), sandbox, the grader's verdicts, the
  grading engine, and one module per lab's checks (``labs/lab1.py`` ... ``labs/lab5.py``, ``labs/shrink.py``).
- ``kit/``: the JupyterLab server, the notebook index, course mode, the sample app, prebuilt archives.
"""

from __future__ import annotations

from helpers import errors as _errors
from helpers._lazy import lazy_exports
from helpers.errors import *  # noqa: F403  (errors are cheap and always wanted)

#: public name -> module that defines it ("module:attribute" where the public name is an alias)
_EXPORTS: dict[str, str] = {
    # the engine, base images, registry, tools (helpers.engine)
    "base_image": "engine.baseimages",
    "cleanup": "engine.client",
    "engine_info": "engine.client",
    "find_tool": "engine.tools",
    "get_client": "engine.client",
    "kit_labels": "engine.client",
    "local_registry": "engine.registry",
    "registry_status": "engine.registry",
    # build, run, inspect (helpers.images)
    "BuildProgress": "images.widgets",
    "build": "images.build",
    "compare_images": "images.inspect",
    "facts_from_archive": "images.inspect",
    "image_facts": "images.inspect",
    "inspect_image": "images.inspect",
    "layers_frame": "images.inspect",
    "plot_build_steps": "images.plots",
    "plot_build_times": "images.plots",
    "plot_image_sizes": "images.plots",
    "plot_layer_sizes": "images.plots",
    "run_container": "images.run",
    "attach_container": "images.run",
    "secret_like_env": "images.inspect",
    # image archives (helpers.archive)
    "archive_layers": "archive.images",
    "files_present": "archive.images",
    "files_table": "archive.images",
    "save_image": "archive.reader",
    "shared_layers": "archive.images",
    "sharing_summary": "archive.images",
    "write_image_archive": "archive.demo",
    # layer analysis (dive's figures and the true waste) (helpers.layers)
    "LESSON_DOCKERFILES": "layers.lesson",
    "analyze_layers": "layers.analysis",
    "build_lesson_image": "layers.lesson",
    "dive_json": "layers.dive",
    "evaluate_ci": "layers.ci_rules",
    "layer_explorer": "layers.widgets",
    "lesson_sources": "layers.lesson",
    "plot_dive_vs_true": "layers.plots",
    "plot_layer_stack": "layers.plots",
    "plot_top_dirs": "layers.plots",
    "plot_wasted_paths": "layers.plots",
    # Dockerfile review (helpers.review)
    "COURSE_RULES": "review.courserules",
    "critique_widget": "review.widgets",
    "findings_frame": "review.findings",
    "parse_dockerfile": "review.dockerfile",
    "review_dockerfile": "review.rules",
    # supply chain: SBOM, scanning, publishing, signing, secrets (helpers.supplychain)
    "DEMO_TOKEN": "supplychain.secrets",
    "RegistryClient": "supplychain.registryapi",
    "SECRET_DOCKERFILES": "supplychain.secrets",
    "TokenIndex": "supplychain.privateindex",
    "app_context": "supplychain.remediation",
    "app_requirements": "supplychain.remediation",
    "archive_digests": "supplychain.digests",
    "check_health": "supplychain.remediation",
    "built_here": "supplychain.remediation",
    "scanner_command": "supplychain.remediation",
    "build_lab3_old": "supplychain.remediation",
    "compare_scans": "supplychain.scan",
    "cosign_verify": "supplychain.sign",
    "find_secret_in_image": "supplychain.secrets",
    "generate_keypair": "supplychain.keys",
    "image_sbom": "supplychain.sbom",
    "load_snapshot": "supplychain.advisories",
    "login": "supplychain.publish",
    "make_private_wheel": "supplychain.privateindex",
    "plot_scan_comparison": "supplychain.plots",
    "plot_severity": "supplychain.plots",
    "pull_by_digest": "supplychain.publish",
    "push": "supplychain.publish",
    "requirements_sbom": "supplychain.remediation",
    "scan_image": "supplychain.scan",
    "scan_sbom": "supplychain.scan",
    "sign_image": "supplychain.sign",
    "signature_tag": "supplychain.sign",
    "verify_image": "supplychain.sign",
    "list_referrers": "supplychain.referrers",
    "copy_signatures": "supplychain.sign",
    "referrers_tag": "supplychain.referrers",
    "verify_bundle": "supplychain.bundle",
    # CI: workflow, pipeline, Compose, Kubernetes, BuildKit cache (helpers.ci)
    "ComposeStack": "ci.compose",
    "PipelineReport": "ci.pipelinereport",
    "SAMPLE_COMPOSE": "ci.composefile",
    "build_from_workflow": "ci.replayplan",
    "cache_roundtrip": "ci.buildcache",
    "check_workflow": "ci.workflow",
    "compose_cli": "ci.compose",
    "compose_to_k8s": "ci.k8s",
    "load_compose": "ci.composefile",
    "load_workflow": "ci.workflowfile",
    "manifests_yaml": "ci.k8s",
    "plot_build_timeline": "ci.plots",
    "plot_cache_roundtrip": "ci.plots",
    "plot_pipeline": "ci.plots",
    "prepare_sample_images": "ci.samplestack",
    "run_pipeline": "ci.pipeline",
    "smoke_test": "ci.samplestack",
    "timed_build": "ci.buildtimeline",
    "validate_manifest": "ci.k8sschema",
    # lessons 01-07 (helpers.lessons)
    "DOCKERFILES": "lessons.caching",
    "base_sizes": "lessons.basecompare",
    "bind_mount_demo": "lessons.runtime",
    "build_steps_chart": "lessons.plots",
    "calls_frame": "lessons.tracing",
    "check_exercise": "lessons.exercises",
    "client_daemon_registry": "lessons.diagrams",
    "compiled_dependency_demo": "lessons.basecompare",
    "container_vs_vm": "lessons.diagrams",
    "dockerignore_demo": "lessons.basecompare",
    "env_inside": "lessons.runtime",
    "exercise_cleanup": "lessons.exercises",
    "health_demo": "lessons.runtime",
    "image_layers": "lessons.caching",
    "inspect_isolation": "lessons.isolation",
    "layer_stack": "lessons.diagrams",
    "lesson_image": "lessons.common",
    "make_leftovers": "lessons.hygiene",
    "measure_start_times": "lessons.isolation",
    "measured_bars": "lessons.plots",
    "memory_limit_demo": "lessons.runtime",
    "namespace_table": "lessons.isolation",
    "nonroot_demo": "lessons.basecompare",
    "pinned_requirements": "lessons.basecompare",
    "pipeline_map": "lessons.diagrams",
    "prune_preview": "lessons.hygiene",
    "prune_summary": "lessons.hygiene",
    "push_pull_demo": "lessons.tracing",
    "remove_images": "lessons.caching",
    "run_caching_demo": "lessons.caching",
    "run_once": "lessons.common",
    "runtime_map": "lessons.diagrams",
    "status_timeline": "lessons.plots",
    "system_df": "lessons.hygiene",
    "tool_presence": "lessons.basecompare",
    "trace_api": "lessons.tracing",
    "traced_container_run": "lessons.tracing",
    "volume_demo": "lessons.runtime",
    # containers versus VMs (helpers.vm)
    "AppImage": "vm.appimage",
    "PRICE_SOURCE": "vm.cost",
    "cost_explorer": "vm.widgets",
    "describe_environment": "vm.environment",
    "figure": "vm.cost",
    "find_vm_tools": "vm.tools",
    "measure_app_image": "vm.appimage",
    "measure_container": "vm.measure",
    "measure_leftovers": "vm.measure",
    "measure_vm": "vm.qemu",
    "monthly_cost": "vm.cost",
    "plot_cost": "vm.plots",
    "plot_density": "vm.plots",
    "plot_memory": "vm.plots",
    "plot_startup": "vm.plots",
    "published_vm_figures": "vm.results",
    "replicas_in_budget": "vm.measure",
    "vm_tools_available": "vm.tools",
    # course mode, prebuilt archives, the sample app (helpers.kit)
    "course_mode": "kit.mode",
    "reference_dockerfile": "kit.sampleapp",
}

__all__ = sorted([*_EXPORTS, *_errors.__all__])
__getattr__, _ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__
