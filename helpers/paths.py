"""Where the kit keeps things: the course root and its git-ignored state directory."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR", "PACKAGE_DIR", "course_root", "state_dir"]

#: the installed ``helpers`` package, and the data files it ships
PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


def course_root() -> Path:
    """The checkout that holds ``notebooks/``, ``source/`` and ``helpers/``.

    ``COURSE_ROOT`` overrides it (for an installed, non-editable package).
    """
    env = os.environ.get("COURSE_ROOT")
    return Path(env).resolve() if env else PACKAGE_DIR.parent


def state_dir(create: bool = True) -> Path:
    """The git-ignored directory for logs, credentials and registry data.

    ``COURSE_STATE_DIR`` overrides the default ``<course root>/.course``.
    """
    env = os.environ.get("COURSE_STATE_DIR")
    path = Path(env).resolve() if env else course_root() / ".course"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
