"""A build cache that travels through a registry: inline cache export and ``--cache-from`` import.

The cache experiment stands in for a fresh CI runner: it builds cold, pushes the image with
its inline cache to the local registry, forgets the image and *only this run's* build-cache
records (found by a run id written into every ``RUN`` line; nobody else's cache is
touched), then rebuilds with ``--cache-from``. The build timelines come from
:mod:`helpers.ci.buildtimeline` (whose names are re-exported here for the notebooks).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.ci.buildtimeline import TimedBuild, timed_build
from helpers.engine.client import get_client
from helpers.engine.registry import RegistryInfo, local_registry
from helpers.errors import CourseError, RegistryError
from helpers.supplychain.tags import delete_manifest

__all__ = ["CacheRoundTrip", "cache_roundtrip", "tagged_dockerfile", "prune_run_cache"]


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
        """One row per build: seconds, steps cached, steps."""
        import pandas as pd

        rows = [("cold (empty cache)", self.cold), ("rebuild, cache imported from registry", self.imported)]
        return pd.DataFrame(
            [
                {
                    "build": name,
                    "seconds": tb.seconds,
                    "steps cached": sum(s.cached for s in tb.steps),
                    "steps": len(tb.steps),
                }
                for name, tb in rows
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
        CourseError: The rebuild did not use the imported cache.
    """
    c = get_client(client)
    reg = registry or local_registry()
    run_id = uuid.uuid4().hex[:10]
    ref = f"{reg.address}/course-cache-demo:{run_id}"
    digest = ""
    with tempfile.TemporaryDirectory(prefix="course-cache-") as tmp:
        df_path = Path(tmp) / "Dockerfile"
        df_path.write_text(tagged_dockerfile(Path(dockerfile).read_text(), run_id))
        _login(reg, tmp)
        common = {"dockerfile": df_path, "tags": [ref], "build_args": build_args, "inline_cache": True, "client": c}
        try:
            cold = timed_build(context, on_line, **common)
            digest, push_seconds = _push(c, ref, reg)
            c.images.remove(ref, force=True)
            pruned = prune_run_cache(run_id, c)
            imported = timed_build(context, on_line, cache_from=[ref], docker_config=tmp, **common)
        finally:
            _forget(c, ref, run_id, digest, reg)
    if not imported.steps or not any(s.cached for s in imported.steps):
        raise CourseError(
            "The rebuild did not use the imported cache.", "Check that the registry keeps the pushed image."
        )
    return CacheRoundTrip(cold, imported, ref, pruned, push_seconds)


def _login(reg: RegistryInfo, config_dir: str) -> None:
    """``docker login`` into a throwaway ``DOCKER_CONFIG`` (the builds import the cache with it)."""
    login = subprocess.run(
        ["docker", "login", reg.address, "-u", reg.username, "--password-stdin"],
        input=reg.password,
        capture_output=True,
        text=True,
        env={"DOCKER_CONFIG": config_dir, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    if login.returncode != 0:
        raise RegistryError(
            f"docker login {reg.address} failed: {login.stderr.strip()[:200]}",
            "Run `make lab` to start the registry.",
        )


def _push(c: Any, ref: str, reg: RegistryInfo) -> tuple[str, float]:
    """Push ``ref`` with its inline cache; returns (manifest digest, seconds)."""
    t0 = time.monotonic()
    msgs = list(c.images.push(ref, auth_config=reg.auth_config(), stream=True, decode=True))
    errors = [x["error"] for x in msgs if "error" in x]
    digest = next((x["aux"]["Digest"] for x in msgs if "Digest" in (x.get("aux") or {})), "")
    if errors:
        raise RegistryError(
            f"push of {ref} failed: {errors[0]}", "Check the registry with `python -m helpers env status`."
        )
    return digest, time.monotonic() - t0


def _forget(c: Any, ref: str, run_id: str, digest: str, reg: RegistryInfo) -> None:
    """Remove what the round trip left: the local image, this run's cache records, the pushed manifest."""
    try:
        c.images.remove(ref, force=True)
    except Exception:  # noqa: BLE001 - already gone
        pass
    prune_run_cache(run_id, c)
    if digest:
        delete_manifest(ref.rsplit(":", 1)[0], digest, reg)
