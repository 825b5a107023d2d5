"""The BuildKit build path: run the docker CLI with ``--progress=plain`` and read its output.

The output is read live through :class:`helpers.images.progress.PlainProgress` (steps, cache
hits, the failing step and its own error lines), so a failure names the step and shows the
lines that explain it.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

from helpers.engine.buildx import share_user_plugins
from helpers.errors import BuildError, DockerfileError
from helpers.images.builders import Builder
from helpers.images.buildmodel import BuildResult, BuildSpec
from helpers.images.progress import PlainProgress

__all__ = ["buildkit_build", "buildkit_command"]


def buildkit_command(builder: Builder, spec: BuildSpec, iidfile: Path) -> list[str]:
    """The docker CLI command line that builds ``spec`` and writes the image id to ``iidfile``."""
    cmd = [builder.cli] + (["buildx", "build", "--load"] if builder.kind == "buildx" else ["build"])
    cmd += ["--progress=plain", "--iidfile", str(iidfile), "-f", str(spec.dockerfile)]
    for t in spec.tags:
        cmd += ["-t", t]
    for k, v in spec.args.items():
        cmd += ["--build-arg", f"{k}={v}"]
    for k, v in spec.labels.items():
        cmd += ["--label", f"{k}={v}"]
    for sid, src in spec.secrets.items():
        cmd += ["--secret", f"id={sid},src={src}"]
    if spec.target:
        cmd += ["--target", spec.target]
    if spec.no_cache:
        cmd.append("--no-cache")
    cmd += [f"--cache-from={ref}" for ref in spec.cache_from]
    return cmd + [str(spec.context)]


def buildkit_build(builder: Builder, spec: BuildSpec, tmp: Path) -> BuildResult:
    """Build ``spec`` with the docker CLI; same contract as :func:`helpers.images.build.build`.

    Args:
        builder: A BuildKit :class:`helpers.images.builders.Builder`.
        spec: What to build.
        tmp: A scratch directory (for the image id file).

    Raises:
        BuildError: A step failed or the build ran past ``spec.timeout``.
        DockerfileError: The Dockerfile does not parse.
    """
    iidfile = tmp / "iid"
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    if spec.docker_config:
        env["DOCKER_CONFIG"] = spec.docker_config
        share_user_plugins(spec.docker_config)  # a buildx plugin installed for this user only
    start = time.monotonic()
    progress = PlainProgress()
    proc = subprocess.Popen(
        buildkit_command(builder, spec, iidfile),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        errors="replace",
    )
    assert proc.stdout is not None
    # The deadline holds even when a step prints nothing (a silent `RUN sleep 1000`): a timer kills the client,
    # which cancels the build in BuildKit.
    expired = threading.Event()
    watchdog = threading.Timer(spec.timeout, lambda: (expired.set(), proc.kill()))
    watchdog.start()
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            progress.feed(line)
            if spec.on_line:
                spec.on_line(line)
    finally:
        watchdog.cancel()
        rc = proc.wait()
    if expired.is_set():
        tail = "\n".join(progress.lines[-15:])
        raise BuildError(f"The build ran past {spec.timeout} s and was stopped.", log_tail=tail)
    seconds = time.monotonic() - start
    if rc != 0:
        if parsed := progress.parse_error():
            raise DockerfileError(parsed[1], line=parsed[0])
        raise BuildError("The image build failed.", step=progress.failed, log_tail="\n".join(progress.error_tail()))
    image_id = iidfile.read_text().strip() if iidfile.exists() else ""
    log = "\n".join(progress.lines)
    return BuildResult(image_id, spec.tags, seconds, builder.kind, progress.build_steps(), log, dict(spec.args))
