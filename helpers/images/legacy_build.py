"""The legacy builder through the engine API (docker-py), for machines without BuildKit."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client
from helpers.errors import BuildError, DockerfileError

_STEP = re.compile(r"^Step (\d+)/\d+ : (.+)$")


def legacy_build(
    context: Path,
    dockerfile: Path,
    tags: list[str],
    args: Mapping[str, str],
    target: str | None,
    labels: Mapping[str, str],
    no_cache: bool,
    on_line: Callable[[str], None] | None,
    timeout: int,
    client: Any = None,
) -> Any:
    """Build with the engine's legacy builder; same contract as :func:`helpers.images.build.build`."""
    from docker.errors import APIError

    from helpers.images.build import BuildResult, BuildStep

    c = get_client(client, timeout=timeout)
    start = time.monotonic()
    lines: list[str] = []
    steps: list[BuildStep] = []
    image_id = ""
    try:
        stream = c.api.build(
            path=str(context),
            dockerfile=str(dockerfile.resolve()),
            tag=tags[0] if tags else None,
            buildargs=dict(args),
            target=target,
            labels=dict(labels),
            nocache=no_cache,
            rm=True,
            forcerm=True,
            decode=True,
        )
        step_start = start
        for chunk in stream:
            if "error" in chunk:
                text = chunk["error"].strip()
                lines.append(text)
                m = re.search(r"parse error line (\d+): (.+)", text)
                if m:
                    raise DockerfileError(m.group(2), line=int(m.group(1)))
                raise BuildError(
                    "The image build failed.",
                    step=steps[-1].instruction if steps else "",
                    log_tail="\n".join(lines[-15:]),
                )
            for line in chunk.get("stream", "").splitlines():
                lines.append(line)
                if on_line:
                    on_line(line)
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
    except APIError as e:
        raise BuildError(f"The engine refused the build: {e.explanation}") from e
    if steps:
        steps[-1].seconds = round(time.monotonic() - step_start, 3)
    for t in tags[1:]:
        c.images.get(image_id).tag(t)
    return BuildResult(image_id, tags, time.monotonic() - start, "legacy", steps, "\n".join(lines))
