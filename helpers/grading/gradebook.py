"""The course's nbgrader gradebook: where it is (one owner of its URL), and opening it in this process.

nbgrader's apps find the gradebook through ``CourseDirectory.db_url``, ``gradebook.db`` at the course
root by default. One gradebook for several grading machines is a PostgreSQL database: set its URL in
the environment variable ``COURSE_GRADEBOOK_URL`` (the kit's ``nbgrader_config.py`` hands it to
nbgrader's apps and the formgrader) or as ``c.CourseDirectory.db_url`` in ``nbgrader_config.py``.
Every part of the kit opens the gradebook through :func:`gradebook_url`, so the kit and nbgrader
always write the same database. The URL's password is never shown: :func:`masked_url`, :func:`redact`.
Opening a new SQLite gradebook runs nbgrader's ``alembic`` command, found next to this interpreter
when the venv is not on PATH.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from helpers.errors import CourseError
from helpers.grading.nbgrader_run import CourseDirs, course_dirs

__all__ = ["GRADEBOOK_URL_ENV", "gradebook_url", "masked_url", "redact", "is_postgres", "open_gradebook"]

#: The environment variable holding the gradebook's SQLAlchemy URL (empty or unset: nbgrader_config.py's).
GRADEBOOK_URL_ENV = "COURSE_GRADEBOOK_URL"
#: The URL schemes the kit opens: SQLite (one machine) and PostgreSQL through psycopg 3 (pinned in pyproject.toml).
SCHEMES = ("sqlite", "postgresql+psycopg")
_HINT = (
    f"Set {GRADEBOOK_URL_ENV} (or c.CourseDirectory.db_url in nbgrader_config.py) to "
    "postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE, or unset it for the course's gradebook.db."
)


def gradebook_url(dirs: CourseDirs | None = None) -> str:
    """The SQLAlchemy URL of the course's gradebook.

    ``COURSE_GRADEBOOK_URL`` when set, else ``CourseDirectory.db_url`` of the course's
    ``nbgrader_config.py``, else nbgrader's default ``sqlite:///<root>/gradebook.db``.

    Raises:
        CourseError: The URL is not one the kit opens, or ``nbgrader_config.py`` would hand nbgrader's
            apps another gradebook than the environment names (they would grade into a different database).
    """
    root = (dirs or course_dirs()).root
    env = os.environ.get(GRADEBOOK_URL_ENV, "").strip()
    config_path = root / "nbgrader_config.py"
    configured = _configured_url(config_path, _mtime(config_path), env)
    if env and configured != env:
        raise CourseError(
            f"{GRADEBOOK_URL_ENV} is set, but nbgrader_config.py gives nbgrader's apps "
            f"{masked_url(configured) if configured else 'their default gradebook.db'}: they would grade elsewhere.",
            f"Add to nbgrader_config.py: `if os.environ.get({GRADEBOOK_URL_ENV!r}): "
            f"c.CourseDirectory.db_url = os.environ[{GRADEBOOK_URL_ENV!r}]` (the kit's file has it).",
        )
    url = env or configured or f"sqlite:///{root / 'gradebook.db'}"
    _check_scheme(url)
    return url


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@functools.lru_cache(maxsize=16)
def _configured_url(path: Path, mtime: int, env: str) -> str:
    """``CourseDirectory.db_url`` of ``nbgrader_config.py`` as nbgrader loads it ('' when it sets none).

    Cached per file version and environment value (the autograde workers ask once per student).
    """
    from traitlets.config.loader import PyFileConfigLoader

    if not mtime:
        return ""
    try:
        config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    except Exception as e:  # any error of the instructor's file: say where
        raise CourseError(f"{path} cannot be loaded ({type(e).__name__}).", "Fix nbgrader_config.py.") from e
    return str(config.CourseDirectory.get("db_url", "") or "")


def _check_scheme(url: str) -> None:
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        raise CourseError(f"The gradebook URL {masked_url(url)} names a driver the kit does not ship.", _HINT)
    if scheme not in SCHEMES:
        raise CourseError(f"The gradebook URL {masked_url(url)} is not SQLite or PostgreSQL.", _HINT)


def is_postgres(url: str) -> bool:
    """True for a PostgreSQL gradebook (shared by every grading machine), False for SQLite (one machine)."""
    return url.lower().startswith("postgresql")


def masked_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (what messages and logs may show)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001  (unparsable: show only the scheme)
        return url.split(":", 1)[0] + "://***"


def redact(text: str, url: str | None = None) -> str:
    """``text`` with the gradebook password (of ``url``, default the environment's URL) replaced by ``***``."""
    from sqlalchemy.engine import make_url

    url = url if url is not None else os.environ.get(GRADEBOOK_URL_ENV, "")
    try:
        password = make_url(url).password if url else None
    except Exception:  # noqa: BLE001
        password = None
    if not password:
        return text
    return text.replace(str(password), "***").replace(quote(str(password), safe=""), "***")


@contextmanager
def open_gradebook(dirs: CourseDirs | None = None) -> Iterator[Any]:
    """nbgrader's :class:`~nbgrader.api.Gradebook` of the course, created if missing, closed afterwards.

    Raises:
        CourseError: The database does not answer (the message shows the URL without its password).
    """
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import OperationalError

    dirs = dirs or course_dirs()
    url = gradebook_url(dirs)
    _alembic_on_path()
    try:
        gb = Gradebook(url, course_id=dirs.course_id)
    except OperationalError as e:
        raise CourseError(
            f"The gradebook {masked_url(url)} does not answer: {redact(str(e.orig or e), url)[:300]}",
            "Check that the database server runs and the URL's host, port, user and password.",
        ) from None  # the driver's exception may quote the URL
    try:
        yield gb
    finally:
        gb.close()
        gb.engine.dispose()  # a server's connections are closed now, not when garbage-collected


def _alembic_on_path() -> None:
    """Put this interpreter's bin folder on PATH when ``alembic`` is not found (the venv's python, not on PATH)."""
    if shutil.which("alembic") is None:
        os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
