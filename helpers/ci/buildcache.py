"""BuildKit, measured: independent stages that run in parallel, and a build cache that
travels through a registry (inline cache export and ``--cache-from`` import).

The cache experiment stands in for a fresh CI runner: it builds cold, pushes the image with
its inline cache to the local registry, forgets the image and *only this run's* build-cache
records (found by a run id written into every ``RUN`` line; nobody else's cache is
touched), then rebuilds with ``--cache-from``.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client
from helpers.engine.registry import local_registry
from helpers.errors import CourseError, RegistryError
from helpers.images.build import build
from helpers.supplychain.tags import delete_manifest

__all__ = [
    "stage_graph",
    "StepTiming",
    "TimedBuild",
    "timed_build",
    "CacheRoundTrip",
    "cache_roundtrip",
    "tagged_dockerfile",
    "prune_run_cache",
]

_STEP = re.compile(r"^#(\d+) \[(?:([\w.-]+) )?\s*\d+/\d+\] (.+)$")
_END = re.compile(r"^#(\d+) (DONE|CACHED|ERROR)(?: (\d+(?:\.\d+)?)s)?")


def stage_graph(dockerfile_text: str) -> dict[str, list[str]]:
    """Which stages each stage needs (``FROM <stage>`` and ``COPY --from=<stage>``), read offline.

    Stages with no path between them are independent: BuildKit may build them at the same time.
    """
    graph: dict[str, list[str]] = {}
    current = ""
    for n, line in enumerate(dockerfile_text.splitlines()):
        if m := re.match(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", line, re.I):
            current = m.group(2) or f"stage-{len(graph)}"
            graph[current] = [m.group(1)] if m.group(1) in graph else []
        elif current and (m := re.search(r"--from=(\S+)", line)) and m.group(1) in graph:
            if m.group(1) not in graph[current]:
                graph[current].append(m.group(1))
    return graph


@dataclass
class StepTiming:
    """When one build step started and ended (seconds from the start of the build)."""

    number: int
    stage: str
    instruction: str
    start: float
    end: float
    cached: bool


@dataclass
class TimedBuild:
    """A build with a timeline of its steps."""

    seconds: float
    steps: list[StepTiming] = field(default_factory=list)
    image_id: str = ""
    log: str = ""

    def frame(self) -> Any:
        import pandas as pd

        df = pd.DataFrame(
            [s.__dict__ for s in self.steps], columns=["number", "stage", "instruction", "start", "end", "cached"]
        )
        df["seconds"] = df["end"] - df["start"]
        return df

    @property
    def serial_seconds(self) -> float:
        """What the steps would take one after another (sum of step durations)."""
        return sum(s.end - s.start for s in self.steps)

    def stage_spans(self) -> dict[str, tuple[float, float]]:
        """stage -> (first start, last end)."""
        spans: dict[str, tuple[float, float]] = {}
        for s in self.steps:
            a, b = spans.get(s.stage, (s.start, s.end))
            spans[s.stage] = (min(a, s.start), max(b, s.end))
        return spans

    def overlap_seconds(self) -> float:
        """How long at least two stages ran at the same time."""
        spans = sorted(self.stage_spans().values())
        total = 0.0
        for i, (a1, b1) in enumerate(spans):
            for a2, b2 in spans[i + 1 :]:
                total += max(0.0, min(b1, b2) - max(a1, a2))
        return total


def timed_build(context: str | Path, on_line: Callable[[str], None] | None = None, **kwargs: Any) -> TimedBuild:
    """:func:`helpers.images.build.build` with a wall-clock timeline of every step.

    Args:
        context: Build context.
        on_line: Also called with every log line.
        **kwargs: Passed to :func:`helpers.images.build.build` (dockerfile, tags, no_cache ...).
    """

    t0 = time.monotonic()
    starts: dict[int, tuple[str, str, float]] = {}
    ends: dict[int, tuple[float, bool]] = {}

    def watch(line: str) -> None:
        now = time.monotonic() - t0
        if m := _STEP.match(line):
            starts.setdefault(int(m.group(1)), (m.group(2) or "default", m.group(3).strip(), now))
        elif (m := _END.match(line)) and int(m.group(1)) in starts:
            n = int(m.group(1))
            ends[n] = (now, m.group(2) == "CACHED")
            if m.group(3):  # BuildKit's own duration is more exact than when the line got printed
                st, instr, _ = starts[n]
                starts[n] = (st, instr, max(0.0, now - float(m.group(3))))
        if on_line:
            on_line(line)

    result = build(context, on_line=watch, **kwargs)
    steps = [
        StepTiming(n, st, instr, t, ends.get(n, (t, False))[0], ends.get(n, (t, False))[1])
        for n, (st, instr, t) in sorted(starts.items())
    ]
    return TimedBuild(result.seconds, steps, result.image_id, result.log)


def tagged_dockerfile(text: str, run_id: str) -> str:
    """Write ``run_id`` into every RUN line (and drop cache mounts) so this run's cache is its own."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(RUN\s+)((?:--mount=\S+\s+)*)(.*)$", line)
        if m:
            line = f"{m.group(1)}: cache-run-{run_id} && {m.group(3)}"
        out.append(line)
    return "\n".join(out) + "\n"


def _df(client: Any) -> list[dict[str, Any]]:
    return client.api.df().get("BuildCache") or []


def prune_run_cache(run_id: str, client: Any = None) -> int:
    """Remove the build-cache records of one run (its RUN steps and everything built on them).

    Returns:
        How many records were removed. Records of other builds are never touched.
    """
    c = get_client(client)
    removed = 0
    for _ in range(4):  # children first: a record with children cannot go yet
        records = _df(c)
        mine = {r["ID"] for r in records if f"cache-run-{run_id}" in (r.get("Description") or "")}
        grew = True
        while grew:
            more = {r["ID"] for r in records if (r.get("Parent") in mine or set(r.get("Parents") or []) & mine)}
            grew = not more <= mine
            mine |= more
        if not mine:
            break
        for rid in sorted(mine):
            removed += len((c.api.prune_builds(filters={"id": [rid]}) or {}).get("CachesDeleted") or [])
    return removed


@dataclass
class CacheRoundTrip:
    """Cold build versus a rebuild that imports the cache from the registry."""

    cold: TimedBuild
    imported: TimedBuild
    cache_ref: str
    pruned_records: int
    push_seconds: float

    @property
    def ratio(self) -> float:
        """Imported-cache rebuild time / cold build time."""
        return self.imported.seconds / self.cold.seconds

    def frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "build": "cold (empty cache)",
                    "seconds": self.cold.seconds,
                    "steps cached": sum(s.cached for s in self.cold.steps),
                    "steps": len(self.cold.steps),
                },
                {
                    "build": "rebuild, cache imported from registry",
                    "seconds": self.imported.seconds,
                    "steps cached": sum(s.cached for s in self.imported.steps),
                    "steps": len(self.imported.steps),
                },
            ]
        )


def cache_roundtrip(
    context: str | Path,
    dockerfile: str | Path,
    build_args: dict[str, str] | None = None,
    registry: Any = None,
    client: Any = None,
    on_line: Callable[[str], None] | None = None,
) -> CacheRoundTrip:
    """Build cold with an inline cache, push, forget locally, rebuild importing the cache.

    Args:
        context: Build context.
        dockerfile: The Dockerfile (every RUN gets this run's id; cache mounts are dropped so
            the cold build is really cold).
        build_args: Build arguments.
        registry: A :class:`helpers.engine.registry.RegistryInfo` (default: the local registry).
        client: docker-py client.
        on_line: Called with every build log line.

    Raises:
        RegistryError: The push or the login failed.
    """

    c = get_client(client)
    reg = registry or local_registry()
    run_id = uuid.uuid4().hex[:10]
    digest = ""
    ref = f"{reg.address}/course-cache-demo:{run_id}"
    text = tagged_dockerfile(Path(dockerfile).read_text(), run_id)
    with tempfile.TemporaryDirectory(prefix="course-cache-") as tmp:
        df_path = Path(tmp) / "Dockerfile"
        df_path.write_text(text)
        login = subprocess.run(
            ["docker", "login", reg.address, "-u", reg.username, "--password-stdin"],
            input=reg.password,
            capture_output=True,
            text=True,
            env={"DOCKER_CONFIG": tmp, "PATH": _path()},
        )
        if login.returncode != 0:
            raise RegistryError(
                f"docker login {reg.address} failed: {login.stderr.strip()[:200]}",
                "Run `make lab` to start the registry.",
            )
        try:
            cold = timed_build(
                context, on_line, dockerfile=df_path, tags=[ref], build_args=build_args, inline_cache=True, client=c
            )
            t0 = time.monotonic()
            out = c.images.push(ref, auth_config=reg.auth_config(), stream=True, decode=True)
            msgs = list(out)
            errors = [x["error"] for x in msgs if "error" in x]
            digest = next((x["aux"]["Digest"] for x in msgs if "Digest" in (x.get("aux") or {})), "")
            if errors:
                raise RegistryError(
                    f"push of {ref} failed: {errors[0]}", "Check the registry with `python -m helpers env status`."
                )
            push_seconds = time.monotonic() - t0
            c.images.remove(ref, force=True)
            pruned = prune_run_cache(run_id, c)
            imported = timed_build(
                context,
                on_line,
                dockerfile=df_path,
                tags=[ref],
                build_args=build_args,
                inline_cache=True,
                cache_from=[ref],
                docker_config=tmp,
                client=c,
            )
        finally:
            try:
                c.images.remove(ref, force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
            prune_run_cache(run_id, c)
            if digest:
                delete_manifest(ref.rsplit(":", 1)[0], digest, reg)
    if not imported.steps or not any(s.cached for s in imported.steps):
        raise CourseError(
            "The rebuild did not use the imported cache.", "Check that the registry keeps the pushed image."
        )
    return CacheRoundTrip(cold, imported, ref, pruned, push_seconds)


def _path() -> str:
    import os

    return os.environ.get("PATH", "/usr/bin:/bin")
