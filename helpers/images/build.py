"""Build images: one function, through BuildKit whenever this machine has a path to it.

:func:`build` resolves what to build (context, Dockerfile, base-image ARGs, labels) into a
:class:`helpers.images.buildmodel.BuildSpec` and hands it to the best path
:func:`helpers.images.builders.find_builder` found: the BuildKit CLI
(:mod:`helpers.images.buildkit`) or the legacy API builder (:mod:`helpers.images.legacy_build`).
The build's data classes and the progress parser are re-exported here, where callers look first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import fill_base_args
from helpers.engine.client import get_client, kit_labels
from helpers.errors import BuildError, DockerfileError
from helpers.images.builders import find_builder
from helpers.images.buildkit import buildkit_build
from helpers.images.buildmodel import BuildResult, BuildSpec, LineCallback
from helpers.images.legacy_build import legacy_build

__all__ = ["build"]


def build(
    context: str | os.PathLike[str],
    dockerfile: str | os.PathLike[str] | None = None,
    dockerfile_text: str | None = None,
    tags: Iterable[str] = (),
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    labels: Mapping[str, str] | None = None,
    no_cache: bool = False,
    kit_label: bool = True,
    secrets: Mapping[str, str] | None = None,
    on_line: LineCallback | None = None,
    timeout: int = 1800,
    client: Any = None,
    cache_from: Iterable[str] = (),
    inline_cache: bool = False,
    docker_config: str | os.PathLike[str] | None = None,
    dockerignore_text: str | None = None,
) -> BuildResult:
    """Build an image from a context directory.

    Args:
        context: The build context directory.
        dockerfile: Path of the Dockerfile (default ``<context>/Dockerfile``).
        dockerfile_text: Dockerfile contents to use instead of a file.
        tags: Image references to tag the result with.
        build_args: ``--build-arg`` values. A missing ARG whose default names an official Python
            image (``BASE_IMAGE``...) gets :func:`helpers.engine.baseimages.base_image` of its kind.
        target: Stage to stop at.
        labels: Extra labels.
        no_cache: Build without the cache.
        kit_label: Add the kit's labels (off for base images: labels are inherited).
        secrets: BuildKit secrets, id -> file path (``--secret id=..,src=..``).
        on_line: Called with every log line (progress in a notebook).
        timeout: Seconds before the build is stopped.
        client: docker-py client (legacy path only).
        cache_from: Images (in a registry) whose inline cache the build may reuse.
        inline_cache: Embed cache metadata in the image (``BUILDKIT_INLINE_CACHE=1``).
        docker_config: A ``DOCKER_CONFIG`` directory (registry credentials for ``cache_from``).
        dockerignore_text: ``.dockerignore`` contents, used on a temporary copy of the context.

    Returns:
        A :class:`BuildResult` (``build_args`` holds the values used).

    Raises:
        BuildError: A step failed (carries the step and the log tail).
        DockerfileError: The Dockerfile does not parse.
        EngineUnavailable: No engine answers.
    """
    get_client(client)  # fail early and clearly when no engine answers
    args = {**(build_args or {}), **({"BUILDKIT_INLINE_CACHE": "1"} if inline_cache else {})}
    all_labels = {**(kit_labels() if kit_label else {}), **(labels or {})}
    spec = BuildSpec(Path(context), Path(dockerfile or ""), list(tags), args, target, all_labels, no_cache)
    spec.secrets, spec.on_line, spec.timeout = dict(secrets or {}), on_line, timeout
    spec.cache_from, spec.docker_config = list(cache_from), str(docker_config or "")
    with tempfile.TemporaryDirectory(prefix="course-build-") as tmp:
        _prepare(spec, Path(tmp), dockerfile is not None, dockerfile_text, dockerignore_text, client)
        builder = find_builder()
        if builder.kind != "legacy":
            return buildkit_build(builder, spec, Path(tmp))
        _require_buildkit_features_absent(spec, inline_cache)
        return legacy_build(spec, client)


def _prepare(
    spec: BuildSpec,
    tmp: Path,
    has_dockerfile: bool,
    dockerfile_text: str | None,
    dockerignore_text: str | None,
    client: Any,
) -> None:
    """Check the context, settle the Dockerfile, fill base-image ARGs, apply a .dockerignore (in ``spec``)."""
    if not spec.context.is_dir():
        raise BuildError(
            f"Build context {spec.context} is not a directory.", hint="Pass the folder that holds your app."
        )
    if dockerfile_text is not None:
        spec.dockerfile = tmp / "Dockerfile"
        spec.dockerfile.write_text(dockerfile_text)
    elif not has_dockerfile:
        spec.dockerfile = spec.context / "Dockerfile"
    if not spec.dockerfile.is_file():
        raise DockerfileError(f"No Dockerfile at {spec.dockerfile}.", hint="Write one, or pass dockerfile_text=.")
    spec.args = fill_base_args(spec.args, spec.dockerfile.read_text(errors="replace"), client)
    if dockerignore_text is not None:
        copy = tmp / "context"
        shutil.copytree(spec.context, copy, symlinks=True)
        (copy / ".dockerignore").write_text(dockerignore_text)
        spec.context = copy


def _require_buildkit_features_absent(spec: BuildSpec, inline_cache: bool) -> None:
    """Refuse, with a clear message, a build the legacy builder cannot do."""
    if spec.secrets or "--mount" in spec.dockerfile.read_text() or inline_cache or spec.cache_from:
        raise BuildError(
            "This build uses RUN --mount or cache import/export, which need BuildKit, and this machine has only "
            "the legacy builder.",
            hint="Install docker buildx (or Debian's docker.io client) and run again.",
        )
