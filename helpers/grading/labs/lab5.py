"""How Lab 5 (``source/lab5-automate-builds``) is graded: the local pipeline for the build the workflow names.

The graded cells hand over the student's GitHub Actions workflow. :func:`lab5_pipeline` runs the kit's local
pipeline (:func:`helpers.ci.pipeline.run_pipeline`: build, test, health, push on ``main``) for the
``docker build`` the workflow names, as a feature branch and as ``main``; :func:`lab5_failing_pipeline` runs
it with an app that never turns healthy (the pipeline must fail and leave nothing behind). Both are trusted
queries (``source/lab5-automate-builds/grading.yml``): in the grading sandbox the grader answers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.ci.pipeline import REFERENCE, build_from_workflow, run_pipeline
from helpers.ci.pipelinereport import PipelineReport
from helpers.engine.client import get_client
from helpers.grading.queries import GradingRefused, trusted_query
from helpers.kit.sampleapp import app_dir
from helpers.paths import PACKAGE_DIR

__all__ = ["LAB5_BRANCHES", "GradedPipeline", "lab5_pipeline", "lab5_failing_pipeline"]

#: The branches a graded Lab 5 pipeline may stand for (main pushes to the local registry).
LAB5_BRANCHES = ("feature/lab5", "main")
_KIT = PACKAGE_DIR.parent
_CACHE: dict[Any, Any] = {}


@dataclass
class GradedPipeline(PipelineReport):
    """A :class:`~helpers.ci.pipeline.PipelineReport` plus the containers it left behind (should be none)."""

    left_behind: list[str] = field(default_factory=list)


def _inside(path: Path, *folders: Path) -> bool:
    real = path.resolve()
    return any(real == f.resolve() or f.resolve() in real.parents for f in folders)


def _graded_build(workflow_text: str) -> tuple[Path, Path]:
    """The (Dockerfile, context) the workflow builds, when the grader may build them.

    Raises:
        GradingRefused: A Dockerfile or context outside the sample app and the kit's references.
        CourseError: The workflow has no ``docker build`` step the kit can run.
    """
    dockerfile, context = build_from_workflow(workflow_text, root=_KIT)
    app = app_dir()
    if context.resolve() not in (app.resolve(), (_KIT / "sample_python_app").resolve()):
        raise GradingRefused(
            f"The workflow builds {context.name!r}: only sample_python_app is graded.",
            "Build the sample app: `docker build ... sample_python_app`.",
        )
    if not _inside(dockerfile, app, _KIT / "sample_python_app", REFERENCE) or not dockerfile.is_file():
        raise GradingRefused(
            f"The workflow's Dockerfile {dockerfile.name!r} is not one the grader builds.",
            "Use a Dockerfile of the sample app or helpers/data/sample_app/.",
        )
    return dockerfile, app


@trusted_query("lab5_pipeline", arity=2)
def lab5_pipeline(workflow_text: str, branch: str, client: Any = None) -> GradedPipeline:
    """Run the local pipeline for the build the workflow names, as ``branch`` (cached per workflow).

    Only the sample app and the kit's reference Dockerfiles can be built (the workflow is text
    from a student: it never picks a path outside them).

    Raises:
        GradingRefused: Another branch, or a Dockerfile/context outside the sample app.
        CourseError: The workflow has no ``docker build`` step the kit can run.
    """
    if branch not in LAB5_BRANCHES:
        raise GradingRefused(f"Branch {branch!r} is not one the lab grades.", f"Use one of {LAB5_BRANCHES}.")
    key = ("lab5", workflow_text, branch)
    if key not in _CACHE:
        dockerfile, app = _graded_build(workflow_text)
        pr = run_pipeline(app, dockerfile, branch=branch, health_timeout=90, client=client)
        left = get_client(client).containers.list(all=True, filters={"label": f"org.dockercourse.pipeline={pr.run_id}"})
        _CACHE[key] = GradedPipeline(**vars(pr), left_behind=[c.name for c in left])
    return _CACHE[key]


@trusted_query("lab5_failing_pipeline", arity=0)
def lab5_failing_pipeline(client: Any = None) -> PipelineReport:
    """The kit's reference pipeline with an app that never turns healthy (a database it cannot reach)."""
    if "lab5-bad" not in _CACHE:
        _CACHE["lab5-bad"] = run_pipeline(
            branch="feature/broken",
            health_timeout=20,
            client=client,
            app_env={"DATABASE_URL": "postgresql://nobody:nothing@db.invalid:5432/none"},
        )
    return _CACHE["lab5-bad"]
