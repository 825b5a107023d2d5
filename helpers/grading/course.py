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
from helpers.grading.deadlines import reapply_late_penalties
from helpers.grading.engine import ensure_grading_engine
from helpers.grading.engine_env import grading_engine_env
from helpers.grading.exchange import ensure_personal_inbound, personalized
from helpers.grading.facts import GradingSpec, load_spec
from helpers.grading.feedback import feedback  # the feedback step lives there
from helpers.grading.gradebook import gradebook_url, open_gradebook, redact
from helpers.grading.gradesheet import with_questions
from helpers.grading.nbgrader_run import (
    CourseDirs,
    StepReport,
    assignments,
    course_dirs,
    ensure_exchange,
    error_tail,
    nbgrader,
    require_exchange,
    run_step,
    steps_frame,
)
from helpers.grading.sandbox_image import IMAGE_ENV, grader_image
from helpers.grading.shards import Shard, grading_lock, in_shard
from helpers.grading.submissions import blocking, check_submission, inbound_intake, submitted
from helpers.grading.verdict_apply import apply_verdicts, fail_verdicts

__all__ = ["release", "collect", "autograde", "feedback", "grades", "questions_csv"]

SANDBOX_PREPROCESSORS = (
    "helpers.grading.nbgrader_sandbox.SandboxExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
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
    if personalized():
        rows.append(_personal_inbound(dirs))
    return steps_frame(rows)


def _personal_inbound(dirs: CourseDirs) -> StepReport:
    """Create ``inbound/<student>/`` for each student of the gradebook (``COURSE_EXCHANGE_PERSONALIZED=1``)."""
    inbound = dirs.exchange / dirs.course_id / "inbound"
    if not inbound.is_dir():
        return StepReport("inbound", "", "", False, 0.0, f"{inbound} does not exist: no lab was released")
    with open_gradebook(dirs) as gb:
        students = sorted(s.id for s in gb.students)
    made = ensure_personal_inbound(inbound, students)
    hint = "" if students else "; the roster is empty: run `make roster FILE=...`, then `make release` again"
    return StepReport("inbound", "", "", True, 0.0, f"{len(made)} new personal inbound folders{hint}")


def collect(assignment: str, dirs: CourseDirs | None = None, check_owner: bool | None = None) -> Any:
    """Collect every submission (resubmissions replace older ones), then check each one.

    Each student's inbound folders are checked first, newest first (:func:`inbound_intake`): one
    holding anything but plain files and folders (a link, a device...), or on a hub owned by
    another account than the student it names, is refused with a row naming the file and is never
    copied; nbgrader collects only the kit's own copy of the newest acceptable one.

    Args:
        check_owner: Check that each submission belongs to the OS account named as its student.
            ``None`` (default): where such an account exists (a hub with real accounts); with
            several fake students under one account (CI as root) the check row says it was not
            possible. ``True``: refuse what cannot be checked. ``False``: do not check.
    """
    dirs = dirs or course_dirs()
    require_exchange(dirs)
    with inbound_intake(assignment, dirs, check_owner) as intake:
        # nbgrader's own owner check only warns, and the private copies are ours: the check is done above
        args = ["collect", assignment, "--update", "--CollectApp.check_owner=False"]
        rows = [run_step("collect", assignment, args, intake.dirs), *intake.refused]
    for student in submitted(assignment, dirs):
        try:
            problems = check_submission(assignment, student, dirs)
        except Exception as e:  # noqa: BLE001  (one crafted submission never stops the others' rows)
            problems = [f"checking it failed ({type(e).__name__}: {str(e)[:200]}): not graded"]
        message = "; ".join(m for m in [*problems, intake.notes.get(student, "")] if m)
        rows.append(StepReport("check", assignment, student, not problems, 0.0, message))
    return steps_frame(rows)


def autograde(
    assignment: str,
    students: Iterable[str] | None = None,
    dirs: CourseDirs | None = None,
    workers: int | None = None,
    sandbox: bool = True,
    log: Callable[[str], None] = print,
    shard: Shard | str | None = None,
) -> Any:
    """Autograde every collected submission, one nbgrader process per student, in parallel.

    Args:
        students: Only these (default: every folder under ``submitted/``).
        workers: Parallel students (default: the machine's cores).
        sandbox: Run student code in the grading sandbox (default). ``False`` runs it here, with
            your rights: only for your own reference solution. The cells a lab lists under ``verdicts:``
            are then scored by the grader from the submitted files (:mod:`helpers.grading.verdict_apply`);
            with the sandbox, that engine work runs on the grading engine (:mod:`helpers.grading.engine`),
            never on yours.
        log: Where progress lines go (starting the grading engine).
        shard: Only the students of this shard, ``"i/N"`` (:mod:`helpers.grading.shards`): run shard 1/N to
            N/N on N machines sharing one PostgreSQL gradebook. Overlapping or rerun shards are safe: one
            grader at a time per submission, and grading it again replaces its grades.
    """
    dirs = dirs or course_dirs()
    students = in_shard(students or submitted(assignment, dirs), shard)
    spec = load_spec(assignment, root=dirs.root)
    env = _sandbox_env(spec, log) if sandbox else {}
    extra = [f"--Autograde.autograde_preprocessors={p}" for p in SANDBOX_PREPROCESSORS] if sandbox else []
    with ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1)) as pool:
        return steps_frame(pool.map(lambda s: _graded(spec, s, dirs, extra, env), students))


def _sandbox_env(spec: GradingSpec, log: Callable[[str], None]) -> dict[str, str]:
    """The grader processes' environment: the sandbox image (built once) and, for engine labs, the grading engine."""
    env = {IMAGE_ENV: grader_image()}  # build once, before the workers start
    if spec.verdicts:  # the lab's engine work goes to an engine holding nothing of yours
        env.update(grading_engine_env(ensure_grading_engine(log)))
    return env


def _graded(spec: GradingSpec, student: str, dirs: CourseDirs, extra: list[str], env: dict[str, str]) -> StepReport:
    """Autograde one submission, then let the grader decide the cells the lab lists under ``verdicts:``.

    Whatever the kernel's run gave those cells is overwritten; if the grader's checks cannot run, they
    score 0 and the row says why (a grade never passes by default). Another grader of the same
    submission (an overlapping shard) waits until this one is done (:func:`grading_lock`).
    """
    url = None
    try:
        url = gradebook_url(dirs)
        with grading_lock(dirs, spec.assignment, student):
            rep = _graded_locked(spec, student, dirs, extra, env)
    except Exception as e:  # noqa: BLE001  (the gradebook did not answer: this student's row says so)
        rep = StepReport("autograde", spec.assignment, student, False, 0.0, f"not graded: {e}")
    rep.message = redact(rep.message, url)  # nbgrader's error lines may quote the gradebook URL
    return rep


def _graded_locked(
    spec: GradingSpec, student: str, dirs: CourseDirs, extra: list[str], env: dict[str, str]
) -> StepReport:
    """:func:`_graded`'s work, with the submission's grading lock held."""
    rep = _autograde_one(spec.assignment, student, dirs, extra, env)
    if not spec.verdicts:
        return rep
    if not rep.ok:
        fail_verdicts(spec, student, dirs)  # whatever the kernel's partial run gave them, they were not earned
        return rep
    try:
        said = apply_verdicts(spec, student, dirs, env)
    except Exception as e:  # noqa: BLE001  (this student's row fails; the others are graded as usual)
        fail_verdicts(spec, student, dirs)
        rep.ok, said = False, f"the grader's checks failed ({type(e).__name__}: {str(e)[:300]}): they score 0"
    rep.message = "; ".join(m for m in [rep.message, said] if m)
    return rep


def _autograde_one(
    assignment: str, student: str, dirs: CourseDirs, extra: list[str], env: dict[str, str]
) -> StepReport:
    """Check and autograde one student's submission (a busy SQLite gradebook is retried).

    The submission's files are checked again first (a link placed after collect is refused before
    nbgrader copies anything). Whatever goes wrong with this student (a crafted notebook, a crash, a
    timeout) becomes this student's failed row: the other students are graded as usual.
    """
    try:
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
    except Exception as e:  # noqa: BLE001  (one student's failure is that student's row)
        msg = f"grading failed ({type(e).__name__}: {str(e)[:300]}); only this student is affected"
        return StepReport("autograde", assignment, student, False, 0.0, msg)
    rep.message = "; ".join([m for m in [rep.message, *problems] if m])
    return rep


def grades(csv_path: str | os.PathLike[str] | None = None, dirs: CourseDirs | None = None) -> Any:
    """Export the gradebook to CSV with a column per question, and return it as a DataFrame.

    Late penalties are first applied again to the current scores
    (:func:`helpers.grading.deadlines.reapply_late_penalties`).

    nbgrader's ``export`` gives one row per student and assignment (scores, late penalty); a column
    ``<notebook>:<grade id>`` per graded cell and ``needs_manual_grade`` are added
    (:func:`helpers.grading.gradesheet.with_questions`), and each question column's maximum and kind
    go to ``<csv name>-questions.csv`` beside it.
    """
    import pandas as pd

    dirs = dirs or course_dirs()
    out = Path(csv_path or dirs.root / "grades.csv").resolve()
    reapply_late_penalties(dirs)  # on the final scores: manual grades added since autograde count
    proc = nbgrader(["export", f"--to={out}"], dirs)
    if proc.returncode != 0 or not out.exists():
        raise CourseError(f"nbgrader export failed: {error_tail(proc)}", "Run `make autograde` first, then try again.")
    df, key = with_questions(pd.read_csv(out, dtype={"assignment": str, "student_id": str}), dirs)
    df.to_csv(out, index=False)
    key.to_csv(questions_csv(out), index=False)
    return df


def questions_csv(grades_csv: str | os.PathLike[str]) -> Path:
    """Where :func:`grades` writes the key of the question columns: ``grades.csv`` -> ``grades-questions.csv``."""
    p = Path(grades_csv)
    return p.with_name(f"{p.stem}-questions.csv")
