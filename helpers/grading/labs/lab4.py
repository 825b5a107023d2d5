"""How Lab 4 (``source/lab4-publish``) is graded: the student's ``publish_version()`` pushes to the grader's registry.

While graded, the notebook's ``REG``, ``REPOSITORY`` and ``push`` point at the grader
(:func:`lab4_registry_info`, :data:`LAB4_REPOSITORY`, :func:`lab4_push`): the grader builds the lab's own
image (:func:`lab4_image`, not the student's Dockerfile), pushes it where the student's code says (with its
own credentials, to a fresh repository per submission), and reports what its registry then serves
(:func:`lab4_registry`: tags, digests, and the image a pull by digest gives). ``lab4_image``, ``lab4_push``
and ``lab4_registry`` are trusted queries (``source/lab4-publish/grading.yml``).
"""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Callable
from typing import Any

from helpers.engine.client import get_client
from helpers.engine.registry import RegistryInfo, local_registry
from helpers.grading.labs.common import build_timeout, submission_tag
from helpers.grading.queries import GradingRefused, trusted_query
from helpers.grading.session import current_session
from helpers.images.build import build
from helpers.supplychain.publish import PushResult, pull_by_digest, push
from helpers.supplychain.registryapi import RegistryClient
from helpers.supplychain.remediation import app_context, app_requirements

__all__ = [
    "LAB4_IMAGE",
    "LAB4_ADDRESS",
    "LAB4_REPOSITORY",
    "lab4_image",
    "lab4_push",
    "lab4_registry",
    "lab4_published",
    "lab4_registry_info",
]

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
_CACHE: dict[str, dict[str, str]] = {}


def lab4_registry_info() -> RegistryInfo:
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
    if "lab4-image" not in _CACHE:
        ctx = app_context({"requirements.txt": app_requirements(), "Dockerfile": LAB4_DOCKERFILE})
        try:
            res = build(
                ctx,
                build_args={"APP_GREETING": "hello from v1"},
                tags=[submission_tag(LAB4_IMAGE)],
                timeout=build_timeout(),
                client=client,
            )
        finally:
            shutil.rmtree(ctx, ignore_errors=True)
        _CACHE["lab4-image"] = {"ref": LAB4_IMAGE, "id": res.image_id}
    return _CACHE["lab4-image"]


@trusted_query("lab4_push", arity=4)
def _lab4_push(image: str, address: str, repository: str, tag: str) -> PushResult:
    """Push this submission's ``image`` to the grader's registry as ``tag`` (only where the lab says).

    Raises:
        GradingRefused: Not on the grader, another address or repository, or an invalid tag.
    """
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
) -> PushResult:
    """While graded, the notebook's ``push``: the grader pushes (with its own credentials) and reports."""
    return _lab4_push(image, address, repository, tag)


@trusted_query("lab4_registry", arity=1)
def lab4_registry(repository: str) -> dict[str, Any]:
    """What the grader's registry serves for the submission's repository: tags, tag -> digest,
    digest -> id of the image a pull by that digest gives.

    Raises:
        GradingRefused: Not on the grader, or another repository.
    """
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


def lab4_published(publish_version: Callable[[str], Any]) -> Callable[[], Any]:
    """While graded, the notebook's ``published()``: your ``publish_version`` applied to the grader's image, once."""
    return functools.cache(lambda: publish_version(lab4_image()["ref"]))


def _untag(ref: str) -> None:
    """Remove one tag the grading made (the image stays when another tag holds it)."""
    from docker.errors import APIError, NotFound

    try:
        get_client().images.remove(ref, noprune=True)
    except (NotFound, APIError):
        pass
