"""The course's nbgrader gradebook, opened in this process (roster, due dates, per-question grades).

nbgrader's apps find the gradebook through ``CourseDirectory.db_url``, whose default is
``gradebook.db`` at the course root; the kit does not change it, so the same database is opened here.
Opening it runs nbgrader's ``alembic`` command, found next to this interpreter when the venv is not on PATH.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from helpers.grading.nbgrader_run import CourseDirs, course_dirs

__all__ = ["gradebook_url", "open_gradebook"]


def gradebook_url(dirs: CourseDirs | None = None) -> str:
    """The SQLAlchemy URL of the course's gradebook (nbgrader's default: ``<root>/gradebook.db``)."""
    return f"sqlite:///{(dirs or course_dirs()).root / 'gradebook.db'}"


@contextmanager
def open_gradebook(dirs: CourseDirs | None = None) -> Iterator[Any]:
    """nbgrader's :class:`~nbgrader.api.Gradebook` of the course, created if missing, closed afterwards."""
    from nbgrader.api import Gradebook

    dirs = dirs or course_dirs()
    _alembic_on_path()
    with Gradebook(gradebook_url(dirs), course_id=dirs.course_id) as gb:
        yield gb


def _alembic_on_path() -> None:
    """Put this interpreter's bin folder on PATH when ``alembic`` is not found (the venv's python, not on PATH)."""
    if shutil.which("alembic") is None:
        os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
