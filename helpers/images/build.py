"""Build images: one function, through BuildKit whenever this machine has a path to it.

BuildKit is needed for ``RUN --mount=type=cache`` and ``--mount=type=secret``. The paths,
in order: ``docker buildx build --load`` (Docker Desktop, Codespaces); a classic docker
CLI older than 23 with ``DOCKER_BUILDKIT=1`` (Debian's docker.io); else the legacy
builder through the engine API (no ``--mount``: such Dockerfiles fail with a clear error).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import fill_base_args, official_arg_defaults
from helpers.engine.client import get_client, kit_labels
from helpers.errors import BuildError, DockerfileError

__all__ = ["Builder", "find_builder", "build", "BuildResult", "BuildStep", "official_arg_defaults"]

LineCallback = Callable[[str], None]


@dataclass(frozen=True)
class Builder:
    """A way to build images.

    Attributes:
        kind: "buildx", "classic-buildkit" or "legacy".
        cli: Path of the docker CLI used ("" for the legacy API path).
    """

    kind: str
    cli: str = ""

    @property
    def buildkit(self) -> bool:
        return self.kind != "legacy"

    def describe(self) -> str:
        return {
            "buildx": f"BuildKit via `docker buildx` ({self.cli})",
            "classic-buildkit": f"BuildKit via DOCKER_BUILDKIT=1 ({self.cli})",
            "legacy": "legacy builder only: RUN --mount (cache, secret) will not work",
        }[self.kind]


def _candidates() -> list[str]:
    seen: list[str] = []
    for path in (shutil.which("docker"), "/usr/bin/docker", "/usr/local/bin/docker"):
        if path and Path(path).exists() and os.path.realpath(path) not in map(os.path.realpath, seen):
            seen.append(path)
    return seen


def _client_major(cli: str) -> int:
    try:
        out = subprocess.run(
            [cli, "version", "--format", "{{.Client.Version}}"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    m = re.match(r"(\d+)", out.strip())
    return int(m.group(1)) if m else 0


@lru_cache(maxsize=1)
def find_builder() -> Builder:
    """Find the best build path on this machine (cached for the process)."""
    forced = os.environ.get("COURSE_BUILDER")  # "legacy" forces the API path (for tests)
    if forced == "legacy":
        return Builder("legacy")
    clis = _candidates()
    for cli in clis:
        try:
            ok = subprocess.run([cli, "buildx", "version"], capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return Builder("buildx", cli)
    for cli in clis:
        if 0 < _client_major(cli) < 23:
            return Builder("classic-buildkit", cli)
    return Builder("legacy")


@dataclass
class BuildStep:
    """One step of a build as BuildKit reported it."""

    number: int
    instruction: str
    cached: bool
    seconds: float


@dataclass
class BuildResult:
    """What a build produced."""

    image_id: str
    tags: list[str]
    seconds: float
    builder: str
    steps: list[BuildStep] = field(default_factory=list)
    log: str = ""
    build_args: dict[str, str] = field(default_factory=dict)

    @property
    def cache_hits(self) -> int:
        return sum(s.cached for s in self.steps)

    def step(self, contains: str) -> BuildStep | None:
        """The last step whose instruction contains ``contains`` (case-insensitive), or None."""
        found = [s for s in self.steps if contains.lower() in s.instruction.lower()]
        return found[-1] if found else None

    def steps_frame(self) -> Any:
        """The steps as a pandas DataFrame (number, instruction, cached, seconds)."""
        import pandas as pd

        return pd.DataFrame([s.__dict__ for s in self.steps], columns=["number", "instruction", "cached", "seconds"])


_STEP = re.compile(r"^#(\d+) \[(?:[\w.-]+ )?\s*\d+/\d+\] (.+)$")
_DONE = re.compile(r"^#(\d+) DONE (\d+(?:\.\d+)?)s$")
_CACHED = re.compile(r"^#(\d+) CACHED$")
_ERROR = re.compile(r"^#(\d+) ERROR")
_PARSE_ERR = re.compile(r"dockerfile parse error (?:on )?line (\d+): (.+)", re.I)


def parse_plain_progress(log: str) -> tuple[list[BuildStep], str]:
    """Parse BuildKit ``--progress=plain`` output.

    Returns:
        The steps in order, and the instruction of the step that failed ("" if none).
    """
    steps: dict[int, BuildStep] = {}
    failed = ""
    for line in log.splitlines():
        if m := _STEP.match(line):
            n = int(m.group(1))
            steps.setdefault(n, BuildStep(n, m.group(2).strip(), False, 0.0))
        elif (m := _DONE.match(line)) and int(m.group(1)) in steps:
            steps[int(m.group(1))].seconds = float(m.group(2))
        elif (m := _CACHED.match(line)) and int(m.group(1)) in steps:
            steps[int(m.group(1))].cached = True
        elif (m := _ERROR.match(line)) and int(m.group(1)) in steps:
            failed = steps[int(m.group(1))].instruction
    return [steps[k] for k in sorted(steps)], failed


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
        build_args: ``--build-arg`` values (``BASE_IMAGE`` is filled in when missing).
        target: Stage to stop at.
        labels: Extra labels.
        kit_label: Add the kit's labels (so cleanup can remove the image). Off for base
            images: labels are inherited by every image built FROM them.
        no_cache: Build without the cache.
        secrets: BuildKit secrets, id -> file path (``--secret id=..,src=..``).
        on_line: Called with every log line (progress in a notebook).
        timeout: Seconds before the build is stopped.
        client: docker-py client (legacy path only).
        cache_from: Images (in a registry) whose inline cache the build may reuse.
        inline_cache: Embed cache metadata in the image (``BUILDKIT_INLINE_CACHE=1``), so a
            pushed image can serve as ``cache_from`` on another machine.
        docker_config: A ``DOCKER_CONFIG`` directory (registry credentials for ``cache_from``).
        dockerignore_text: ``.dockerignore`` contents; the context is then copied to a temporary
            folder with this file at its root (the original folder is never written to).

    An ``ARG`` whose default names an official Python image (``ARG BASE_IMAGE=python:3.12``,
    ``ARG BUILDER=python:3.12-slim``) is filled with :func:`helpers.engine.baseimages.base_image` of the
    same kind (the official image when the engine has it, else the local stand-in); the
    values used are in ``BuildResult.build_args``.

    Returns:
        A :class:`BuildResult`.

    Raises:
        BuildError: A step failed (carries the step and the log tail).
        DockerfileError: The Dockerfile does not parse.
        EngineUnavailable: No engine answers.
    """
    get_client(client)  # fail early and clearly when no engine answers
    context = Path(context)
    if not context.is_dir():
        raise BuildError(f"Build context {context} is not a directory.", hint="Pass the folder that holds your app.")
    args = dict(build_args or {})
    if inline_cache:
        args["BUILDKIT_INLINE_CACHE"] = "1"
    all_labels = {**(kit_labels() if kit_label else {}), **(labels or {})}
    with tempfile.TemporaryDirectory(prefix="course-build-") as tmp:
        if dockerfile_text is not None:
            dockerfile = Path(tmp) / "Dockerfile"
            dockerfile.write_text(dockerfile_text)
        dockerfile = Path(dockerfile) if dockerfile else context / "Dockerfile"
        if not dockerfile.is_file():
            raise DockerfileError(f"No Dockerfile at {dockerfile}.", hint="Write one, or pass dockerfile_text=.")
        args = fill_base_args(args, dockerfile.read_text(errors="replace"), client)
        if dockerignore_text is not None:
            copy = Path(tmp) / "context"
            shutil.copytree(context, copy, symlinks=True)
            (copy / ".dockerignore").write_text(dockerignore_text)
            context = copy
        builder = find_builder()
        if builder.kind == "legacy":
            if secrets or "--mount" in dockerfile.read_text() or inline_cache or list(cache_from):
                raise BuildError(
                    "This build uses RUN --mount or cache import/export, which need BuildKit, and this machine has only "
                    "the legacy builder.",
                    hint="Install docker buildx (or Debian's docker.io client) and run again.",
                )
            from helpers.images.legacy_build import legacy_build

            return legacy_build(
                context, dockerfile, list(tags), args, target, all_labels, no_cache, on_line, timeout, client
            )
        extra = [f"--cache-from={ref}" for ref in cache_from]
        env = {"DOCKER_CONFIG": str(docker_config)} if docker_config else {}
        return _cli_build(
            builder,
            context,
            dockerfile,
            list(tags),
            args,
            target,
            all_labels,
            no_cache,
            secrets or {},
            on_line,
            timeout,
            Path(tmp),
            extra,
            env,
        )


def _cli_build(
    builder: Builder,
    context: Path,
    dockerfile: Path,
    tags: list[str],
    args: dict[str, str],
    target: str | None,
    labels: Mapping[str, str],
    no_cache: bool,
    secrets: Mapping[str, str],
    on_line: LineCallback | None,
    timeout: int,
    tmp: Path,
    extra: list[str] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> BuildResult:
    iidfile = tmp / "iid"
    cmd = [builder.cli] + (["buildx", "build", "--load"] if builder.kind == "buildx" else ["build"])
    cmd += ["--progress=plain", "--iidfile", str(iidfile), "-f", str(dockerfile)]
    for t in tags:
        cmd += ["-t", t]
    for k, v in args.items():
        cmd += ["--build-arg", f"{k}={v}"]
    for k, v in labels.items():
        cmd += ["--label", f"{k}={v}"]
    for sid, src in secrets.items():
        cmd += ["--secret", f"id={sid},src={src}"]
    if target:
        cmd += ["--target", target]
    if no_cache:
        cmd.append("--no-cache")
    cmd += extra or []
    cmd.append(str(context))
    env = dict(os.environ, DOCKER_BUILDKIT="1", **(extra_env or {}))
    start = time.monotonic()
    lines: list[str] = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, errors="replace")
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            if on_line:
                on_line(line)
            if time.monotonic() - start > timeout:
                proc.kill()
                raise BuildError(f"The build ran past {timeout} s and was stopped.", log_tail="\n".join(lines[-15:]))
    finally:
        rc = proc.wait()
    seconds = time.monotonic() - start
    log = "\n".join(lines)
    steps, failed = parse_plain_progress(log)
    if rc != 0:
        if m := _PARSE_ERR.search(log):
            raise DockerfileError(m.group(2).strip(), line=int(m.group(1)))
        raise BuildError("The image build failed.", step=failed, log_tail="\n".join(_error_tail(lines)))
    image_id = iidfile.read_text().strip() if iidfile.exists() else ""
    return BuildResult(image_id, tags, seconds, builder.kind, steps, log, dict(args))


def _error_tail(lines: list[str], n: int = 15) -> list[str]:
    """The last lines of a failed build: the failing step's own output when it can be found."""
    failing = [m.group(1) for ln in lines if (m := _ERROR.match(ln))]
    if failing:
        own = [
            re.sub(r"^#\d+ (?:\d+\.\d+ )?", "", ln)
            for ln in lines
            if ln.startswith(f"#{failing[-1]} ") and not _STEP.match(ln) and ln.strip()
        ]
        if own:
            return _around_first_error(own, n)
    keep = [
        ln
        for ln in lines
        if ln.strip() and not re.match(r"^#\d+ (?:sha256:|\[internal\]|transferring|DONE|CACHED|resolve)", ln)
    ]
    return keep[-n:]


def _around_first_error(lines: list[str], n: int) -> list[str]:
    """Up to ``n`` lines: from just before the first line that names an error, plus the last line."""
    summary = re.compile(r"^ERROR: (?:executor failed|failed to solve|process .* did not complete)")
    specific = re.compile(r"^\s*(?:Error|ERROR|E|fatal|FATAL):\s")
    candidates = [i for i, ln in enumerate(lines) if specific.match(ln) and not summary.match(ln)]
    candidates += [i for i, ln in enumerate(lines) if re.search(r"\berror\b", ln, re.I) and not summary.match(ln)]
    first = candidates[0] if candidates else len(lines) - 1
    start = max(0, first - 2)
    if len(lines) - start <= n:
        return lines[start:]
    return lines[start : start + n - 2] + ["..."] + lines[-1:]
