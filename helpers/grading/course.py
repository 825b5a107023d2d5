"""The instructor's workflow, one function per step, over nbgrader's own apps.

``release`` -> ``collect`` -> ``autograde`` (in the sandbox, see :mod:`helpers.grading.sandbox`) ->
``feedback`` -> ``grades``. Each runs nbgrader at the course root with the root
``nbgrader_config.py``; each returns a pandas DataFrame of :class:`StepReport` rows and never
prints. Problems with one student (not a notebook, tampered tests, odd id) are reported on that
student's row; the other students are graded as usual.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from helpers.errors import CourseError
from helpers.grading.engine import ensure_grading_engine
from helpers.grading.engine_env import grading_engine_env
from helpers.grading.facts import load_spec
from helpers.grading.nbgrader_run import (
    CourseDirs,
    StepReport,
    assignments,
    course_dirs,
    ensure_exchange,
    error_tail,
    nbgrader,
    run_step,
    steps_frame,
)
from helpers.grading.sandbox_image import IMAGE_ENV, grader_image
from helpers.grading.submissions import blocking, check_submission, submitted

__all__ = ["release", "collect", "autograde", "feedback", "grades"]

SANDBOX_PREPROCESSORS = (
    "helpers.grading.nbgrader_sandbox.SandboxExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
)
FEEDBACK_PREPROCESSORS = (
    "nbgrader.preprocessors.GetGrades",
    "helpers.grading.nbgrader_sandbox.ClearHiddenTracebacks",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
)


def release(names: Iterable[str] | None = None, dirs: CourseDirs | None = None) -> Any:
    """Generate every lab (``source/`` -> ``release/``) and release it to the exchange."""
    dirs = dirs or course_dirs()
    ensure_exchange(dirs)
    rows = []
    for a in names or assignments(dirs):
        rows.append(run_step("generate", a, ["generate_assignment", a, "--force"], dirs))
        if rows[-1].ok:
            rows.append(run_step("release", a, ["release_assignment", a, "--force"], dirs))
    return steps_frame(rows)


def _require_exchange(dirs: CourseDirs) -> None:
    if not dirs.exchange.is_dir():
        raise CourseError(
            f"The exchange directory {dirs.exchange} does not exist.",
            "Run `make release` first (it creates it), or set COURSE_EXCHANGE to the shared exchange.",
        )


def collect(assignment: str, dirs: CourseDirs | None = None, check_owner: bool = False) -> Any:
    """Collect every submission (resubmissions replace older ones), then check each one.

    Args:
        check_owner: nbgrader's check that a student's files belong to that OS user (on a
            JupyterHub with real accounts, turn it on; with several fake students under one
            account, e.g. root in CI, it only warns and must stay off).
    """
    dirs = dirs or course_dirs()
    _require_exchange(dirs)
    rows = [
        run_step(
            "collect", assignment, ["collect", assignment, "--update", f"--CollectApp.check_owner={check_owner}"], dirs
        )
    ]
    for student in submitted(assignment, dirs):
        problems = check_submission(assignment, student, dirs)
        rows.append(StepReport("check", assignment, student, not problems, 0.0, "; ".join(problems)))
    return steps_frame(rows)


def autograde(
    assignment: str,
    students: Iterable[str] | None = None,
    dirs: CourseDirs | None = None,
    workers: int | None = None,
    sandbox: bool = True,
    log: Callable[[str], None] = print,
) -> Any:
    """Autograde every collected submission, one nbgrader process per student, in parallel.

    Args:
        students: Only these (default: every folder under ``submitted/``).
        workers: Parallel students (default: the machine's cores).
        sandbox: Run student code in the grading sandbox (default). ``False`` runs it here, with
            your rights: only for your own reference solution. With the sandbox, a lab's engine work
            (its trusted queries, ``grading.yml`` engine steps) runs on the grading engine
            (:mod:`helpers.grading.engine`), never on yours.
        log: Where progress lines go (starting the grading engine).
    """
    dirs = dirs or course_dirs()
    students = list(students or submitted(assignment, dirs))
    env = _sandbox_env(assignment, dirs, log) if sandbox else {}
    extra = [f"--Autograde.autograde_preprocessors={p}" for p in SANDBOX_PREPROCESSORS] if sandbox else []
    with ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1)) as pool:
        return steps_frame(pool.map(lambda s: _autograde_one(assignment, s, dirs, extra, env), students))


def _sandbox_env(assignment: str, dirs: CourseDirs, log: Callable[[str], None]) -> dict[str, str]:
    """The grader processes' environment: the sandbox image (built once) and, for engine labs, the grading engine."""
    env = {IMAGE_ENV: grader_image()}  # build once, before the workers start
    spec = load_spec(assignment, root=dirs.root)
    if spec.engine or spec.queries:  # the lab's engine work goes to an engine that holds nothing of yours
        env.update(grading_engine_env(ensure_grading_engine(log)))
    return env


def _autograde_one(
    assignment: str, student: str, dirs: CourseDirs, extra: list[str], env: dict[str, str]
) -> StepReport:
    """Check and autograde one student's submission (a busy SQLite gradebook is retried)."""
    problems = check_submission(assignment, student, dirs)
    if blocking(problems):
        return StepReport("autograde", assignment, student, False, 0.0, "; ".join(problems))
    rep = StepReport("autograde", assignment, student, False)
    for attempt in range(3):
        args = ["autograde", assignment, f"--student={student}", "--force", *extra]
        rep = run_step("autograde", assignment, args, dirs, student, env)
        if rep.ok or "database is locked" not in rep.message:
            break
        time.sleep(1 + attempt)
    rep.message = "; ".join([m for m in [rep.message, *problems] if m])
    return rep


def feedback(assignment: str, dirs: CourseDirs | None = None) -> Any:
    """Generate feedback (hidden tests stay hidden: see ``nbgrader_config.py``) and release it."""
    dirs = dirs or course_dirs()
    _require_exchange(dirs)
    rows = [
        run_step(
            "generate_feedback",
            assignment,
            [
                "generate_feedback",
                assignment,
                "--force",
                *[f"--GenerateFeedback.preprocessors={p}" for p in FEEDBACK_PREPROCESSORS],
            ],
            dirs,
        )
    ]
    if rows[-1].ok:
        rows.append(run_step("release_feedback", assignment, ["release_feedback", assignment], dirs))
    return steps_frame(rows)


def grades(csv_path: str | os.PathLike[str] | None = None, dirs: CourseDirs | None = None) -> Any:
    """Export the gradebook to CSV (nbgrader ``export``) and return it as a DataFrame."""
    import pandas as pd

    dirs = dirs or course_dirs()
    out = Path(csv_path or dirs.root / "grades.csv").resolve()
    proc = nbgrader(["export", f"--to={out}"], dirs)
    if proc.returncode != 0 or not out.exists():
        raise CourseError(f"nbgrader export failed: {error_tail(proc)}", "Run `make autograde` first, then try again.")
    return pd.read_csv(out)
