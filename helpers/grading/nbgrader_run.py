"""Running nbgrader's apps for this course: where the course lives, and one nbgrader process per step.

Every step of :mod:`helpers.grading.course` runs nbgrader at the course root with this kit on its
PYTHONPATH and this kit's state directory (:func:`nbgrader`), and reports one :class:`StepReport` row
per assignment and student (:func:`run_step`, :func:`steps_frame`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from helpers.errors import CourseError
from helpers.paths import PACKAGE_DIR, course_root, state_dir

__all__ = [
    "CourseDirs",
    "StepReport",
    "course_dirs",
    "assignments",
    "require_exchange",
    "ensure_exchange",
    "nbgrader",
    "run_step",
    "steps_frame",
    "error_tail",
]


@dataclass(frozen=True)
class CourseDirs:
    """Where the course lives: root (with source/ and nbgrader_config.py), exchange, course id."""

    root: Path
    exchange: Path
    course_id: str


@dataclass
class StepReport:
    """The outcome of one step for one assignment (and one student, where it applies)."""

    step: str
    assignment: str
    student: str = ""
    ok: bool = True
    seconds: float = 0.0
    message: str = ""


def course_dirs(
    root: str | os.PathLike[str] | None = None, exchange: str | os.PathLike[str] | None = None
) -> CourseDirs:
    """Resolve the course root (default: the kit's checkout) and the exchange (``COURSE_EXCHANGE``
    or ``<root>/.course/exchange``, as in ``nbgrader_config.py``)."""

    r = Path(root or course_root()).resolve()
    x = Path(exchange or os.environ.get("COURSE_EXCHANGE") or r / ".course" / "exchange").resolve()
    return CourseDirs(r, x, os.environ.get("COURSE_ID", "docker-cicd"))


def assignments(dirs: CourseDirs | None = None) -> list[str]:
    """The assignments in ``source/`` (folders holding a notebook)."""
    src = (dirs or course_dirs()).root / "source"
    return sorted(p.name for p in src.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if src.is_dir() else []


def require_exchange(dirs: CourseDirs) -> None:
    """Stop with a clear error when the exchange directory is missing (collect and feedback need it).

    Raises:
        CourseError: The exchange does not exist.
    """
    if not dirs.exchange.is_dir():
        raise CourseError(
            f"The exchange directory {dirs.exchange} does not exist.",
            "Run `make release` first (it creates it), or set COURSE_EXCHANGE to the shared exchange.",
        )


def ensure_exchange(dirs: CourseDirs) -> Path:
    """Create the exchange root, world-writable as nbgrader requires (students write their inbound)."""
    dirs.exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(dirs.exchange, 0o777)
    return dirs.exchange


def nbgrader(
    args: list[str], dirs: CourseDirs, timeout: int = 3600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one nbgrader app at the course root with this course's exchange (output captured)."""

    cmd = [
        sys.executable,
        "-m",
        "nbgrader",
        *args,
        f"--CourseDirectory.root={dirs.root}",
        f"--Exchange.root={dirs.exchange}",
        f"--CourseDirectory.course_id={dirs.course_id}",
    ]
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])  # nbgrader runs `alembic`
    # The course root may be elsewhere (a class folder, a test's course), but the engine, the registry and
    # their credentials are this kit's: without COURSE_STATE_DIR the grader would look for them under
    # <course root>/.course, make new registry credentials there, and be refused by the running registry.
    full = dict(
        os.environ,
        COURSE_ROOT=str(dirs.root),
        COURSE_STATE_DIR=str(state_dir()),
        PYTHONPATH=_pythonpath(),
        PATH=path,
        **(env or {}),
    )
    return subprocess.run(cmd, cwd=dirs.root, capture_output=True, text=True, timeout=timeout, env=full)


def _pythonpath() -> str:
    """This kit first on PYTHONPATH, so nbgrader can import the kit's preprocessors."""
    kit = str(PACKAGE_DIR.parent)  # so nbgrader can import helpers.grading.nbgrader_sandbox
    return os.pathsep.join([kit] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])


def error_tail(proc: subprocess.CompletedProcess[str], n: int = 6) -> str:
    """The last error lines of an nbgrader run (or its last lines), for a report row."""
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "[ERROR]" in ln or "Error" in ln or "error" in ln]
    return "\n".join((lines or (proc.stdout + proc.stderr).splitlines())[-n:])


def steps_frame(rows: Iterable[StepReport]) -> Any:
    """The rows as a pandas DataFrame with the :class:`StepReport` columns (also when there are none)."""
    import pandas as pd

    return pd.DataFrame([asdict(r) for r in rows], columns=list(StepReport.__dataclass_fields__))


def run_step(
    step: str, assignment: str, args: list[str], dirs: CourseDirs, student: str = "", env: dict[str, str] | None = None
) -> StepReport:
    """Run one nbgrader app and report it as one row (its error tail in ``message`` when it failed)."""
    start = time.monotonic()
    proc = nbgrader(args, dirs, env=env)
    ok = proc.returncode == 0
    return StepReport(step, assignment, student, ok, round(time.monotonic() - start, 2), "" if ok else error_tail(proc))
