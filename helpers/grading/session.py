"""The grader's side of trusted queries: one submission's queries, run with the engine across rounds.

:class:`TrustedSession` answers the requests :func:`helpers.grading.queries.parse_requests` accepted, in
order, with the lab's allowed queries only, under a per-submission budget; query functions use
:func:`current_session` to tag what they build after the submission and to clean it up.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from helpers.engine.client import get_client
from helpers.errors import CourseError
from helpers.grading.engine_env import using_grading_engine
from helpers.grading.queries import GradingRefused, check_args, check_arity, encode, query_key, registered

__all__ = ["TrustedSession", "current_session", "MAX_SESSION_QUERIES", "SESSION_BUDGET_SECONDS"]

#: What one submission may cost the grader in all rounds together (then its queries are refused).
MAX_SESSION_QUERIES = 24
SESSION_BUDGET_SECONDS = 900

_SESSION: TrustedSession | None = None


def current_session() -> TrustedSession | None:
    """The grading session running queries on the trusted side (None otherwise)."""
    return _SESSION


@dataclass
class TrustedSession:
    """Runs one submission's queries on the trusted side, across rounds, and cleans up after.

    Query functions use :func:`current_session` to name what they create after the submission
    (:meth:`tag`), to remember it (:meth:`owns`), and to register cleanups (:meth:`on_close`).

    Attributes:
        allowed: Query names this lab may ask for (its ``grading.yml``).
        build_timeout: Seconds one build may take.
        run_timeout: Seconds a container may take to answer.
        max_queries: Queries answered for this submission at most, all rounds together.
        budget_seconds: Engine time for this submission; once spent, further queries are refused.
        answers: key -> {"ok", "value"} or {"ok": False, "error"}; the facts given to the sandbox.
        log: One line per request run or refused (kept in ``grading_facts.json``).
    """

    allowed: tuple[str, ...]
    build_timeout: int = 600
    run_timeout: int = 60
    max_queries: int = MAX_SESSION_QUERIES
    budget_seconds: float = SESSION_BUDGET_SECONDS
    answers: dict[str, Any] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    id: str = field(default_factory=lambda: os.urandom(5).hex())
    _tags: dict[str, str] = field(default_factory=dict)
    _cleanups: list[Callable[[], None]] = field(default_factory=list)
    _spent: float = 0.0

    def tag(self, logical: str) -> str:
        """The real tag for a lab's logical tag (unique to this submission); remembered as owned."""
        if logical not in self._tags:
            repo, _, tag = logical.rpartition(":") if ":" in logical.split("/")[-1] else (logical, "", "latest")
            self._tags[logical] = f"{repo}:{tag}-g{self.id}"
            self.on_close(functools.partial(_remove_image, self._tags[logical]))
        return self._tags[logical]

    def owns(self, logical: str) -> str:
        """The real tag of an image this submission's queries built.

        Raises:
            GradingRefused: The image was not built for this submission (another lab's, the kit's...).
        """
        if logical not in self._tags:
            raise GradingRefused(
                f"{logical!r} was not built for this submission: the grader only runs images "
                "that this lab's checks built.",
                "Use the image tag the lab gives you.",
            )
        return self._tags[logical]

    def on_close(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` when the session closes (remove images, containers...)."""
        self._cleanups.append(fn)

    @contextlib.contextmanager
    def active(self) -> Iterator[TrustedSession]:
        """Within the block this is :func:`current_session` and the kit's engine calls go to the grading engine."""
        global _SESSION

        _SESSION = self
        try:
            with using_grading_engine():
                yield self
        finally:
            _SESSION = None

    def run(self, requests: list[tuple[str, list[Any]]]) -> int:
        """Answer the requests not answered yet, in order; returns how many ran."""
        with self.active():
            return self._run(requests, registered())

    def _run(self, requests: list[tuple[str, list[Any]]], known: dict[str, Any]) -> int:
        ran = 0
        for name, args in requests:
            key = query_key(name, args)
            if key in self.answers:
                continue
            start = time.monotonic()
            try:
                if name not in self.allowed or name not in known:
                    raise GradingRefused(
                        f"{name}() is not a check of this lab: the grader refused it.",
                        "Use the checks the lab's test cells call.",
                    )
                check_args(args)
                check_arity(name, args)
                if len(self.answers) >= self.max_queries or self._spent >= self.budget_seconds:
                    raise GradingRefused(
                        f"The grader's budget for this submission is used up ({len(self.answers)} "
                        f"checks, {self._spent:.0f} s).",
                        "Call the lab's checks as its cells do.",
                    )
                value = {"ok": True, "value": encode(known[name](*args))}
            except CourseError as e:
                value = {"ok": False, "error": {"type": type(e).__name__, "message": e.message, "hint": e.hint}}
            except Exception as e:  # noqa: BLE001  (student data made a kit function fail: a failed check)
                value = {
                    "ok": False,
                    "error": {
                        "type": "CourseError",
                        "message": f"{name}() failed on the grader: {type(e).__name__}: {str(e)[:500]}",
                        "hint": "",
                    },
                }
            self.answers[key] = value
            self._spent += time.monotonic() - start
            self.log.append(
                {
                    "name": name,
                    "ok": value["ok"],
                    "seconds": round(time.monotonic() - start, 2),
                    "args_chars": len(json.dumps(args)),
                }
            )
            ran += 1
        return ran

    def refuse(self, messages: list[str]) -> None:
        """Record refused requests for the audit trail."""
        self.log.extend({"refused": m} for m in messages)

    def close(self) -> None:
        """Run the cleanups (each once; failures ignored: the next grading run cleans again)."""

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
