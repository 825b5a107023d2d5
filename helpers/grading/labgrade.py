"""The grader's side of Labs 3, 4 and 5: the engine work their graded cells need, as trusted queries.

Student code only hands over text (a Dockerfile, pinned requirements, a workflow, push arguments); these
functions build, scan, run and tear down on the engine and return facts (dataclasses). In the
grading sandbox they are answered by the grader (:mod:`helpers.grading.queries`); elsewhere they run
directly. Lab 1 and 2's checks live in :mod:`helpers.grading.labcheck`.
"""

from __future__ import annotations

import functools
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.ci.pipeline import REFERENCE, PipelineReport, build_from_workflow, run_pipeline
from helpers.engine.client import get_client
from helpers.engine.registry import RegistryInfo, local_registry
from helpers.errors import CourseError
from helpers.grading.queries import GradingRefused, trusted_query
from helpers.grading.session import current_session
from helpers.images.build import build
from helpers.kit.sampleapp import app_dir
from helpers.paths import PACKAGE_DIR
from helpers.supplychain.publish import PushResult, RegistryClient, pull_by_digest, push
from helpers.supplychain.remediation import HealthReport, app_context, check_health
from helpers.supplychain.sbom import sbom
from helpers.supplychain.scan import SOURCES, ScanResult, scan

__all__ = [
    "Lab3Report",
    "GradedPipeline",
    "lab3_report",
    "lab5_pipeline",
    "lab5_failing_pipeline",
    "lab4_image",
    "lab4_push",
    "lab4_registry",
    "lab4_published",
    "lab4_registry_info",
    "LAB3_TAG",
    "LAB5_BRANCHES",
    "LAB4_IMAGE",
    "LAB4_ADDRESS",
    "LAB4_REPOSITORY",
]

LAB3_TAG = "course-lab3/sample-api:graded"
#: The branches a graded Lab 5 pipeline may stand for (main pushes to the local registry).
LAB5_BRANCHES = ("feature/lab5", "main")
_KIT = PACKAGE_DIR.parent
_CACHE: dict[Any, Any] = {}


@dataclass
class Lab3Report:
    """Lab 3: the remediated image, built, scanned, run until healthy, and its packages."""

    built: bool = False
    error: str = ""
    scan: ScanResult | None = None
    health: HealthReport | None = None
    health_error: str = ""
    pypi: dict[str, str] = field(default_factory=dict)
    os_ecosystem: str = ""


@trusted_query("lab3_report", arity=3)
def lab3_report(dockerfile_text: str, requirements_text: str, source: str = "auto", client: Any = None) -> Lab3Report:
    """Build the remediated Dockerfile with the new pins (the sample app's ``app/``), scan it
    (``source`` as in :func:`helpers.supplychain.scan.scan`), wait for its HEALTHCHECK, read its packages (cached).

    Returns:
        A :class:`Lab3Report` (build, scan and health problems are recorded in it).
    """

    if source not in SOURCES:
        raise CourseError(f"Unknown scan source {source!r}.", f"Use one of {', '.join(SOURCES)}.")
    key = ("lab3", dockerfile_text, requirements_text, source)
    if key in _CACHE:
        return _CACHE[key]
    session = current_session()
    tag = session.tag(LAB3_TAG) if session else LAB3_TAG
    rep = Lab3Report()
    ctx = app_context({"requirements.txt": requirements_text, "Dockerfile": dockerfile_text})
    try:
        build(ctx, tags=[tag], timeout=session.build_timeout if session else 1800, client=client)
        rep.built = True
    except CourseError as e:
        rep.error = str(e)[-3000:]
    finally:
        shutil.rmtree(ctx, ignore_errors=True)
    if rep.built:
        rep.scan = scan(tag, source=source, client=client)
        rep.scan.image = LAB3_TAG
        try:
            rep.health = check_health(tag, client=client, sandbox=session is not None)
        except CourseError as e:
            rep.health_error = str(e)[-2000:]
        bom = sbom(tag, client=client)
        rep.pypi = {p.name.lower(): p.version for p in bom.packages if p.type == "pypi"}
        rep.os_ecosystem = bom.os_ecosystem
    _CACHE[key] = rep
    return rep


@dataclass
class GradedPipeline(PipelineReport):
    """A :class:`~helpers.ci.pipeline.PipelineReport` plus the containers it left behind (should be none)."""

    left_behind: list[str] = field(default_factory=list)


def _inside(path: Path, *folders: Path) -> bool:
    real = path.resolve()
    return any(real == f.resolve() or f.resolve() in real.parents for f in folders)


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
    if key in _CACHE:
        return _CACHE[key]
    dockerfile, context = build_from_workflow(workflow_text, root=_KIT)
    app = app_dir()
    if context.resolve() != app.resolve() and context.resolve() != (_KIT / "sample_python_app").resolve():
        raise GradingRefused(
            f"The workflow builds {context.name!r}: only sample_python_app is graded.",
            "Build the sample app: `docker build ... sample_python_app`.",
        )
    if not _inside(dockerfile, app, _KIT / "sample_python_app", REFERENCE) or not dockerfile.is_file():
        raise GradingRefused(
            f"The workflow's Dockerfile {dockerfile.name!r} is not one the grader builds.",
            "Use a Dockerfile of the sample app or helpers/data/sample_app/.",
        )
    pr = run_pipeline(app, dockerfile, branch=branch, health_timeout=90, client=client)
    left = get_client(client).containers.list(all=True, filters={"label": f"org.dockercourse.pipeline={pr.run_id}"})
    out = GradedPipeline(**vars(pr), left_behind=[c.name for c in left])
    _CACHE[key] = out
    return out


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


# ---------------------------------------------------------------- Lab 4: publish to the grader's registry

#: The Lab 4 image (the lab's own Dockerfile, not the student's): built by the grader, pushed by the student's code.
LAB4_IMAGE = "course-lab4/sample-api:graded"
#: While graded, the notebook's REG and REPOSITORY: names the grader maps to its registry and a fresh repository.
LAB4_ADDRESS = "grader-registry"
LAB4_REPOSITORY = "course/lab4-graded"
LAB4_DOCKERFILE = """ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app ./app
ARG APP_GREETING="hello from v1"
ENV APP_GREETING=${APP_GREETING} PORT=8000 DATA_DIR=/data
HEALTHCHECK --interval=2s --timeout=2s --retries=10 \\
  CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
CMD ["python3", "-m", "app"]
"""
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def lab4_registry_info() -> Any:
    """The ``REG`` a graded Lab 4 notebook uses (no password: the grader logs in with its own)."""

    return RegistryInfo(LAB4_ADDRESS, "student", "(kept by the grader)")


def _lab4_repo() -> tuple[Any, str]:
    """The grader's registry and the repository standing for :data:`LAB4_REPOSITORY` in this session."""

    session = current_session()
    suffix = session.id if session else "direct"
    return local_registry(), f"course/lab4-g{suffix}"


@trusted_query("lab4_image", arity=0)
def lab4_image(client: Any = None) -> dict[str, str]:
    """Build the Lab 4 image (v1) for this submission: its logical reference and image id."""
    from helpers.supplychain.remediation import app_context, app_requirements

    if "lab4-image" in _CACHE:
        return _CACHE["lab4-image"]
    session = current_session()
    ctx = app_context({"requirements.txt": app_requirements(), "Dockerfile": LAB4_DOCKERFILE})
    try:
        res = build(
            ctx,
            build_args={"APP_GREETING": "hello from v1"},
            tags=[session.tag(LAB4_IMAGE) if session else LAB4_IMAGE],
            timeout=session.build_timeout if session else 1800,
            client=client,
        )
    finally:
        shutil.rmtree(ctx, ignore_errors=True)
    _CACHE["lab4-image"] = {"ref": LAB4_IMAGE, "id": res.image_id}
    return _CACHE["lab4-image"]


@trusted_query("lab4_push", arity=4)
def _lab4_push(image: str, address: str, repository: str, tag: str) -> Any:

    session = current_session()
    if session is None:
        raise GradingRefused("lab4_push only runs on the grader.", "")
    if address != LAB4_ADDRESS or repository != LAB4_REPOSITORY:
        raise GradingRefused(
            f"The grader only publishes to REG.address/REPOSITORY (got {address[:80]}/{repository[:80]}).",
            "Push with REG.address and REPOSITORY, as the lab says.",
        )
    if not isinstance(tag, str) or not _TAG_RE.match(tag):
        raise GradingRefused(f"{str(tag)[:80]!r} is not a valid tag.", "Use a version such as 1.0.0.")
    real = session.owns(image)
    reg, repo = _lab4_repo()
    res = push(real, reg.address, repo, tag, reg.username, reg.password)
    session.on_close(functools.partial(_untag, f"{reg.address}/{repo}:{tag}"))
    return PushResult(f"{LAB4_ADDRESS}/{LAB4_REPOSITORY}:{tag}", LAB4_REPOSITORY, tag, res.digest)


def lab4_push(
    image: str,
    address: str,
    repository: str,
    tag: str,
    username: str | None = None,
    password: str | None = None,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """While graded, the notebook's ``push``: the grader pushes (with its own credentials) and reports."""
    return _lab4_push(image, address, repository, tag)


@trusted_query("lab4_registry", arity=1)
def lab4_registry(repository: str) -> dict[str, Any]:
    """What the grader's registry serves for the submission's repository: tags, tag -> digest,
    digest -> id of the image a pull by that digest gives."""

    session = current_session()
    if session is None or repository != LAB4_REPOSITORY:
        raise GradingRefused("lab4_registry only reads the graded repository, on the grader.", "")
    reg, repo = _lab4_repo()
    api = RegistryClient(reg.address, reg.username, reg.password)
    tags = api.tags(repo)
    digests = {t: api.manifest_digest(repo, t) or "" for t in tags[:20]}
    images = {}
    for d in sorted(set(digests.values()) - {""}):
        images[d] = pull_by_digest(reg.address, repo, d, reg.username, reg.password).id
        session.on_close(functools.partial(_untag, f"{reg.address}/{repo}@{d}"))
    return {"tags": tags, "digests": digests, "images": images}


def lab4_published(publish_version: Any) -> Any:
    """While graded, the notebook's ``published()``: your ``publish_version`` applied to the grader's image, once."""
    return functools.cache(lambda: publish_version(lab4_image()["ref"]))


def _untag(ref: str) -> None:
    from docker.errors import APIError, NotFound


    try:
        get_client().images.remove(ref, noprune=True)
    except (NotFound, APIError):
        pass
