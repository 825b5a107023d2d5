"""Which build path this machine has: ``docker buildx``, a classic CLI with BuildKit, or only the legacy API.

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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Builder", "find_builder"]


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
        """True when this path builds with BuildKit."""
        return self.kind != "legacy"

    def describe(self) -> str:
        """One line for the environment status."""
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
    """Find the best build path on this machine (cached for the process).

    ``COURSE_BUILDER=legacy`` forces the legacy API path (for tests).
    """
    if os.environ.get("COURSE_BUILDER") == "legacy":
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
