"""The data of a build: what to build (:class:`BuildSpec`) and what it produced (:class:`BuildResult`).

These dataclasses are shared by the front end (:mod:`helpers.images.build`), both build paths
(:mod:`helpers.images.buildkit`, :mod:`helpers.images.legacy_build`) and the BuildKit progress
parser (:mod:`helpers.images.progress`); they live apart so that none of those modules needs another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BuildStep", "BuildResult", "BuildSpec", "LineCallback"]

#: Called with every line of build output (e.g. a :class:`helpers.images.widgets.BuildProgress`).
LineCallback = Callable[[str], None]


@dataclass
class BuildStep:
    """One step of a build as the builder reported it."""

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
        """How many steps came from the build cache."""
        return sum(s.cached for s in self.steps)

    def step(self, contains: str) -> BuildStep | None:
        """The last step whose instruction contains ``contains`` (case-insensitive), or None."""
        found = [s for s in self.steps if contains.lower() in s.instruction.lower()]
        return found[-1] if found else None

    def steps_frame(self) -> Any:
        """The steps as a pandas DataFrame (number, instruction, cached, seconds)."""
        import pandas as pd

        return pd.DataFrame([s.__dict__ for s in self.steps], columns=["number", "instruction", "cached", "seconds"])


@dataclass
class BuildSpec:
    """One build, fully resolved (paths checked, base-image ARGs and labels filled in).

    Attributes:
        context: The build context directory.
        dockerfile: The Dockerfile to use.
        tags: Image references for the result.
        args: ``--build-arg`` values.
        target: Stage to stop at.
        labels: Labels for the image.
        no_cache: Build without the cache.
        secrets: BuildKit secrets, id -> file path.
        on_line: Called with every log line.
        timeout: Seconds before the build is stopped.
        cache_from: Images whose inline cache the build may reuse.
        docker_config: A ``DOCKER_CONFIG`` directory for the CLI ("" for the default).
    """

    context: Path
    dockerfile: Path
    tags: list[str]
    args: dict[str, str]
    target: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    no_cache: bool = False
    secrets: dict[str, str] = field(default_factory=dict)
    on_line: LineCallback | None = None
    timeout: int = 1800
    cache_from: list[str] = field(default_factory=list)
    docker_config: str = ""
