"""One submission's engine work on the grader: tags unique to it, and what to remove when it is graded.

:func:`helpers.grading.verdicts.compute` runs a lab's ``verdicts()`` inside a :class:`GradingSession`; the lab's
checks use :func:`current_session` to tag what they build after the submission (:meth:`GradingSession.tag`), to
read the lab's build time limit, and to register cleanups (:meth:`GradingSession.on_close`).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from helpers.engine.client import get_client
from helpers.grading.engine_env import using_grading_engine

__all__ = ["GradingSession", "current_session"]

_SESSION: GradingSession | None = None


def current_session() -> GradingSession | None:
    """The grading session whose checks are running in this process (None otherwise)."""
    return _SESSION


@dataclass
class GradingSession:
    """One submission's checks on the grader: unique tags, the build time limit, cleanups.

    Attributes:
        build_timeout: Seconds one build may take (the lab's ``grading.yml``).
        id: A random id, unique to this session (in every tag it makes).
    """

    build_timeout: int = 600
    id: str = field(default_factory=lambda: os.urandom(5).hex())
    _tags: dict[str, str] = field(default_factory=dict)
    _cleanups: list[Callable[[], None]] = field(default_factory=list)

    def tag(self, logical: str) -> str:
        """The real tag for a lab's logical tag (unique to this submission); removed when the session closes."""
        if logical not in self._tags:
            repo, _, tag = logical.rpartition(":") if ":" in logical.split("/")[-1] else (logical, "", "latest")
            self._tags[logical] = f"{repo}:{tag}-g{self.id}"
            self.on_close(functools.partial(_remove_image, self._tags[logical]))
        return self._tags[logical]

    def on_close(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` when the session closes (remove images, containers...)."""
        self._cleanups.append(fn)

    @contextlib.contextmanager
    def active(self) -> Iterator[GradingSession]:
        """Within the block this is :func:`current_session` and the kit's engine calls go to the grading engine."""
        global _SESSION

        _SESSION = self
        try:
            with using_grading_engine():
                yield self
        finally:
            _SESSION = None

    def close(self) -> None:
        """Run the cleanups, last registered first (each once; failures ignored: the next grading run cleans again)."""

        with using_grading_engine():
            while self._cleanups:
                try:
                    self._cleanups.pop()()
                except Exception:  # noqa: BLE001
                    pass


def _remove_image(tag: str) -> None:
    from docker.errors import APIError, NotFound

    try:
        get_client().images.remove(tag, force=True)
    except (NotFound, APIError):
        pass
