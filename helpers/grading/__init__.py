"""The instructor's side: the nbgrader workflow, the sandbox, the grader's verdicts and engine, the labs' checks.

Which module grades which lab (its ``verdicts()``; the checks they share are in :mod:`helpers.grading.labs.common`):

- Lab 1, ``source/lab1-build-basics``: :mod:`helpers.grading.labs.lab1`
- Lab 2, ``source/lab2-improve-dockerfile``: :mod:`helpers.grading.labs.lab2`
- Lab 3, ``source/lab3-security-scan``: :mod:`helpers.grading.labs.lab3`
- Lab 4, ``source/lab4-publish``: :mod:`helpers.grading.labs.lab4`
- Lab 5, ``source/lab5-automate-builds``: :mod:`helpers.grading.labs.lab5`
- ``source/activity-shrink-image``: :mod:`helpers.grading.labs.shrink`

How grading runs: :mod:`~helpers.grading.course` (release, collect, autograde, feedback, grades) runs nbgrader;
:mod:`~helpers.grading.sandbox` executes each submission's notebook in a locked-down container (its test cells
are the student's self-check); then the grader decides the graded cells from the submitted files
(:mod:`~helpers.grading.verdicts`, run in a :mod:`~helpers.grading.session` on the grading engine,
:mod:`~helpers.grading.engine`) and writes the scores (:mod:`~helpers.grading.verdict_apply`);
``source/<lab>/grading.yml`` says which cells and with which limits (:mod:`~helpers.grading.facts`). The
gradebook's URL has one owner, :mod:`~helpers.grading.gradebook` (a PostgreSQL server for a class graded on
several machines, in shards: :mod:`~helpers.grading.shards`).
"""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ClearHiddenTracebacks": "nbgrader_sandbox",
    "CourseDirs": "nbgrader_run",
    "GRADER_IMAGE": "sandbox_image",
    "GRADING_BRIDGE": "engine_network",
    "GRADING_ENV": "engine_env",
    "GRADING_REGISTRY_PORT": "engine_env",
    "GRADING_SUBNET": "engine_network",
    "GradedPipeline": "labs.lab5",
    "GradingEngine": "engine_env",
    "GradingRefused": "verdicts",
    "GradingSpec": "facts",
    "ImageReport": "labs.common",
    "LAB1_TAG": "labs.lab1",
    "LAB2_TAG": "labs.lab2",
    "LAB3_TAG": "labs.lab3",
    "LAB4_IMAGE": "labs.lab4",
    "LAB5_BRANCHES": "labs.lab5",
    "LAB_TIMEOUT": "labs.common",
    "SAFE_STUDENT_ID": "submissions",
    "Shard": "shards",
    "SIZE_MARGIN": "labs.lab2",
    "SandboxExecute": "nbgrader_sandbox",
    "SandboxLimits": "sandbox",
    "SandboxResult": "sandbox",
    "StepReport": "nbgrader_run",
    "GradingSession": "session",
    "assignments": "nbgrader_run",
    "autograde": "course",
    "build_timeout": "labs.common",
    "check_dockerfile": "labs.common",
    "check_submission": "submissions",
    "collect": "course",
    "context_leaks": "labs.lab2",
    "course_dirs": "nbgrader_run",
    "current_grading_engine": "engine_env",
    "current_session": "session",
    "dependency_steps_cached": "labs.lab2",
    "ensure_exchange": "nbgrader_run",
    "require_exchange": "nbgrader_run",
    "ensure_grading_engine": "engine",
    "feedback": "course",
    "grader_image": "sandbox_image",
    "gradebook_url": "gradebook",
    "grades": "course",
    "grading_client": "engine_env",
    "grading_engine_env": "engine_env",
    "grading_engine_status": "engine",
    "lab4_image": "labs.lab4",
    "load_spec": "facts",
    "merge_outputs": "sandbox",
    "nbgrader": "nbgrader_run",
    "parse_shard": "shards",
    "plot_score_distribution": "plots",
    "rebuild_after_source_change": "labs.common",
    "reference_size": "labs.lab2",
    "release": "course",
    "run_in_sandbox": "sandbox",
    "sandbox_command": "sandbox",
    "shard_of": "shards",
    "static_checks": "labs.common",
    "stop_grading_engine": "engine",
    "submission_tag": "labs.common",
    "unavailable_reason": "engine",
    "using_grading_engine": "engine_env",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
