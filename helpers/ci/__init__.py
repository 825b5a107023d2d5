"""CI: workflow checks, the local pipeline, BuildKit cache export/import, Compose and Kubernetes."""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "CacheRoundTrip": "buildcache",
    "Check": "workflow",
    "ComposeStack": "compose",
    "IGNORED": "k8s",
    "K8sResult": "k8s",
    "Mapping": "k8s",
    "PipelineReport": "pipelinereport",
    "REFERENCE": "pipeline",
    "ReplayReport": "pipelinereport",
    "SAMPLE_COMPOSE": "composefile",
    "SERVICE_KEYS": "composefile",
    "Stage": "pipelinereport",
    "StepTiming": "buildtimeline",
    "TimedBuild": "buildtimeline",
    "WorkflowReport": "workflow",
    "build_from_workflow": "replayplan",
    "cache_roundtrip": "buildcache",
    "check_workflow": "workflow",
    "compose_cli": "compose",
    "compose_to_k8s": "k8s",
    "load_compose": "composefile",
    "merge_compose": "composefile",
    "load_workflow": "workflowfile",
    "manifests_yaml": "k8s",
    "plot_build_timeline": "plots",
    "plot_cache_roundtrip": "plots",
    "plot_pipeline": "plots",
    "prepare_sample_images": "samplestack",
    "prune_run_cache": "buildcache",
    "read_plan": "replayplan",
    "replay": "replayrun",
    "run_pipeline": "pipeline",
    "smoke_test": "samplestack",
    "stage_graph": "buildtimeline",
    "tagged_dockerfile": "buildcache",
    "timed_build": "buildtimeline",
    "validate_manifest": "k8sschema",
    "wait_healthy": "pipeline",
    "workflow_steps": "workflowfile",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
