"""Where the grading engine is, and pointing the kit's engine and registry calls at it.

The grading engine (:mod:`helpers.grading.engine` starts it) is described by a :class:`GradingEngine`:
its socket, its state directory (the grading registry's credentials and data) and its registry port.
``course.autograde`` passes that description to the grader's processes in :data:`GRADING_ENV`; inside
them, :func:`using_grading_engine` points ``DOCKER_HOST`` and the registry settings there for a block.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from helpers.errors import EngineUnavailable
from helpers.paths import state_dir

__all__ = [
    "GradingEngine",
    "GRADING_ENV",
    "GRADING_REGISTRY_PORT",
    "grading_dir",
    "grading_engine_env",
    "current_grading_engine",
    "using_grading_engine",
    "grading_client",
    "engine_client",
    "read_engine",
]

#: Environment variable holding the grading engine's description (JSON) for the grader's processes.
GRADING_ENV = "COURSE_GRADING_ENGINE"
GRADING_REGISTRY_PORT = int(os.environ.get("COURSE_GRADING_REGISTRY_PORT", "5055"))


@dataclass(frozen=True)
class GradingEngine:
    """Where grading does its engine work.

    Attributes:
        docker_host: ``unix://`` address of the grading dockerd.
        state: State directory of the grading environment (its registry's credentials and data).
        registry_port: Port of the grading registry on 127.0.0.1.
    """

    docker_host: str
    state: str
    registry_port: int

    def env(self) -> dict[str, str]:
        """The environment variables that point the kit at this engine and registry."""
        return {
            "DOCKER_HOST": self.docker_host,
            "COURSE_STATE_DIR": self.state,
            "COURSE_REGISTRY_PORT": str(self.registry_port),
        }


def grading_dir() -> Path:
    """The grading engine's folder in the kit's state directory (its data, log, pid file, ``engine.json``)."""
    return state_dir() / "grading"


def read_engine() -> GradingEngine | None:
    """The grading engine last started on this machine (``engine.json``), or None."""
    path = grading_dir() / "engine.json"
    return GradingEngine(**json.loads(path.read_text())) if path.exists() else None


def grading_engine_env(engine: GradingEngine | None) -> dict[str, str]:
    """What to add to a grader process's environment so its engine work goes to ``engine``."""
    return {GRADING_ENV: json.dumps(asdict(engine))} if engine else {}


def current_grading_engine() -> GradingEngine | None:
    """The grading engine this process was given (:data:`GRADING_ENV`), if any."""
    raw = os.environ.get(GRADING_ENV)
    return GradingEngine(**json.loads(raw)) if raw else None


@contextlib.contextmanager
def using_grading_engine(engine: GradingEngine | None = None) -> Iterator[GradingEngine | None]:
    """Within the block, the kit's engine and registry calls go to the grading engine (if any)."""
    engine = engine or current_grading_engine()
    if engine is None:
        yield None
        return
    saved = {k: os.environ.get(k) for k in engine.env()}
    os.environ.update(engine.env())
    try:
        yield engine
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def engine_client(engine: GradingEngine, timeout: int = 300) -> Any:
    """A docker-py client of ``engine`` (no check that it answers)."""
    import docker

    return docker.DockerClient(base_url=engine.docker_host, timeout=timeout)


def grading_client(engine: GradingEngine | None = None) -> Any:
    """A docker-py client of the grading engine (the running one by default).

    Raises:
        EngineUnavailable: No grading engine has been started on this machine.
    """
    engine = engine or read_engine()
    if engine is None:
        raise EngineUnavailable("no grading engine has been started", "Run `make autograde` (as root).")
    return engine_client(engine)
