"""The legacy builder through the engine API (docker-py), for machines without BuildKit.

Its progress format is the legacy one (``Step 2/5 : RUN ...``, ``Using cache``), not
BuildKit's, so it is read here and not by :mod:`helpers.images.progress`.
"""

from __future__ import annotations

import re
import time
from typing import Any

from helpers.engine.client import get_client
from helpers.errors import BuildError, DockerfileError
from helpers.images.buildmodel import BuildResult, BuildSpec, BuildStep

__all__ = ["legacy_build"]

_STEP = re.compile(r"^Step (\d+)/\d+ : (.+)$")


def legacy_build(spec: BuildSpec, client: Any = None) -> BuildResult:
    """Build with the engine's legacy builder; same contract as :func:`helpers.images.build.build`.

    Raises:
        BuildError: A step failed or the engine refused the build.
        DockerfileError: The Dockerfile does not parse.
    """
    from docker.errors import APIError

    c = get_client(client, timeout=spec.timeout)
    start = time.monotonic()
    lines: list[str] = []
    steps: list[BuildStep] = []
    try:
        image_id = _stream(c, spec, lines, steps)
    except APIError as e:
        raise BuildError(f"The engine refused the build: {e.explanation}") from e
    for t in spec.tags[1:]:
        c.images.get(image_id).tag(t)
    return BuildResult(image_id, spec.tags, time.monotonic() - start, "legacy", steps, "\n".join(lines))


def _stream(c: Any, spec: BuildSpec, lines: list[str], steps: list[BuildStep]) -> str:
    """Run the build, filling ``lines`` and ``steps``; returns the image id."""
    stream = c.api.build(
        path=str(spec.context),
        dockerfile=str(spec.dockerfile.resolve()),
        tag=spec.tags[0] if spec.tags else None,
        buildargs=dict(spec.args),
        target=spec.target,
        labels=dict(spec.labels),
        nocache=spec.no_cache,
        rm=True,
        forcerm=True,
        decode=True,
    )
    image_id = ""
    step_start = time.monotonic()
    for chunk in stream:
        if "error" in chunk:
            _raise_error(chunk["error"].strip(), lines, steps)
        for line in chunk.get("stream", "").splitlines():
            lines.append(line)
            if spec.on_line:
                spec.on_line(line)
            if m := _STEP.match(line):
                now = time.monotonic()
                if steps:
                    steps[-1].seconds = round(now - step_start, 3)
                step_start = now
                steps.append(BuildStep(int(m.group(1)), m.group(2), False, 0.0))
            elif "Using cache" in line and steps:
                steps[-1].cached = True
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
    if steps:
        steps[-1].seconds = round(time.monotonic() - step_start, 3)
    return image_id


def _raise_error(text: str, lines: list[str], steps: list[BuildStep]) -> None:
    lines.append(text)
    if m := re.search(r"parse error line (\d+): (.+)", text):
        raise DockerfileError(m.group(2), line=int(m.group(1)))
    raise BuildError(
        "The image build failed.", step=steps[-1].instruction if steps else "", log_tail="\n".join(lines[-15:])
    )
