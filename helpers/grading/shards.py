"""Autograde beyond one machine: which students a shard grades, and one grader per submission at a time.

``make autograde SHARD=i/N`` on N machines grades each student on exactly one of them: a student's
shard is a hash of the id (:func:`shard_of`), not a position in a list, so every machine computes
the same split from its own listing, whatever else it holds. All shards write one gradebook, a
PostgreSQL server (:mod:`helpers.grading.gradebook`).

Shards may overlap (a shard is rerun after a machine died, or two runs cover the same students):
:func:`grading_lock` lets one grader at a time grade a given submission, a PostgreSQL advisory lock
held by its connection (every machine sees it; a killed grader's lock goes with its connection), or
a file lock for a SQLite gradebook (one machine). Grading a submission again replaces its grades:
nbgrader keeps one submission row per student and assignment and one grade row per cell (unique
constraints of its schema), and other students' rows are never touched.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from helpers.errors import CourseError
from helpers.grading.gradebook import gradebook_url, is_postgres, masked_url, redact
from helpers.grading.nbgrader_run import CourseDirs

__all__ = ["MAX_SHARDS", "Shard", "parse_shard", "shard_of", "in_shard", "grading_lock"]

#: More machines than this for one class is a typo.
MAX_SHARDS = 1000
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_HINT = "Write SHARD=i/N with 1 <= i <= N, e.g. SHARD=1/4 on the first of four machines (make autograde SHARD=1/4)."


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``: the students whose :func:`shard_of` is ``index``."""

    index: int
    count: int

    def __contains__(self, student: object) -> bool:
        return isinstance(student, str) and shard_of(student, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str | Shard) -> Shard:
    """``"2/4"`` -> ``Shard(2, 4)``.

    Raises:
        CourseError: Not ``i/N`` with ``1 <= i <= N <= MAX_SHARDS``.
    """
    if isinstance(text, Shard):
        return text
    m = _SHARD.match(str(text))
    if not m:
        raise CourseError(f"SHARD={text!r} is not of the form i/N.", _HINT)
    index, count = int(m.group(1)), int(m.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise CourseError(f"SHARD={text!r}: N must be between 1 and {MAX_SHARDS}.", _HINT)
    if not 1 <= index <= count:
        raise CourseError(f"SHARD={text!r}: i must be between 1 and N ({count}); shards are numbered from 1.", _HINT)
    return Shard(index, count)


def shard_of(student: str, count: int) -> int:
    """The shard (1..count) of a student id: SHA-256 of the id, so every machine and Python agrees."""
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def in_shard(students: Iterable[str], shard: Shard | str | None) -> list[str]:
    """The students of ``shard`` (all of them when ``shard`` is None), in their order."""
    if shard is None:
        return list(students)
    s = parse_shard(shard)
    return [student for student in students if student in s]


def _lock_key(dirs: CourseDirs, assignment: str, student: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks, one per course, assignment and student."""
    text = f"nbgrader-autograde\0{dirs.course_id}\0{assignment}\0{student}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


@contextmanager
def grading_lock(dirs: CourseDirs, assignment: str, student: str) -> Iterator[None]:
    """Hold the right to grade one submission: another grader of it (any machine, any shard) waits.

    PostgreSQL gradebook: a session advisory lock on a connection of its own, released when the
    block ends or the process dies. SQLite gradebook: an exclusive lock on a file beside the course's
    state (the same machine only, as is the database).

    Raises:
        CourseError: The database does not answer (the URL is shown without its password).
    """
    url = gradebook_url(dirs)
    if is_postgres(url):
        with _advisory_lock(url, _lock_key(dirs, assignment, student)):
            yield
        return
    folder = dirs.root / ".course" / "grading-locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{_lock_key(dirs, assignment, student) & 0xFFFFFFFFFFFFFFFF:016x}.lock").open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        yield


@contextmanager
def _advisory_lock(url: str, key: int) -> Iterator[None]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        conn = engine.connect()
    except OperationalError as e:
        raise CourseError(
            f"The gradebook {masked_url(url)} does not answer: {redact(str(e.orig or e), url)[:300]}",
            "Check that the database server runs and the URL's host, port, user and password.",
        ) from None
    try:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        yield
        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        conn.close()
        engine.dispose()
