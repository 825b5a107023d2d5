"""The course as students open it.

The JupyterLab server, the notebook index, course mode, the sample app, prebuilt archives, and for a JupyterHub:
nbgitpuller links and the single-user image.
"""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "CATALOG": "prebuilt",
    "CourseMode": "mode",
    "Entry": "index",
    "INDEX": "labserver",
    "MODE_LOG_ENV": "mode",
    "PREBUILT_LABEL": "prebuilt",
    "PrebuiltImage": "prebuilt",
    "PrebuiltManifest": "prebuilt",
    "SAMPLE_REPO": "sampleapp",
    "VARIANTS": "sampleapp",
    "app_dir": "sampleapp",
    "build_index": "index",
    "build_sample_image": "sampleapp",
    "catalog_image": "prebuilt",
    "collect_entries": "index",
    "copy_app": "sampleapp",
    "course_images": "prebuilt",
    "course_mode": "mode",
    "export_images": "prebuilt",
    "find_archive": "prebuilt",
    "build_hub_image": "hubimage",
    "free_port": "labserver",
    "hub_links": "hublinks",
    "index_is_current": "index",
    "lab_command": "labserver",
    "measure_builds": "sampleapp",
    "nbgitpuller_url": "hublinks",
    "prebuilt_dir": "prebuilt",
    "read_manifest": "prebuilt",
    "reference_dockerfile": "sampleapp",
    "reference_dockerignore": "sampleapp",
    "touch_requirements": "sampleapp",
    "touch_source": "sampleapp",
    "write_index": "index",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
