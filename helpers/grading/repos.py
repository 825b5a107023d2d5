"""Submissions from students' own repositories (GitHub Classroom, Codespaces): into ``submitted/`` for grading.

Each student works in a copy of the students' repository (``make student-repo``) and pushes. The instructor
clones them all into one folder (``gh classroom clone student-repos``, or ``git clone`` each), then
``make import-repos DIR=<folder>`` (``python -m helpers course import-repos``) copies each clone's
``release/<lab>/`` to ``submitted/<student>/<lab>/``, where ``make autograde`` finds it, as ``make collect``
would have left it. The student id is the clone's folder name less ``--prefix`` (Classroom names each
repository ``<assignment>-<github user>``). The submission time (``timestamp.txt``, for late penalties) is the
last commit's date that touched the lab's folder: the student sets it, as with ``nbgrader submit``'s.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpers.errors import CourseError
from helpers.grading.intake import copy_submission, inspect_submission
from helpers.grading.nbgrader_run import CourseDirs, StepReport, assignments, course_dirs, steps_frame
from helpers.grading.submissions import SAFE_STUDENT_ID

__all__ = ["commit_time", "import_repos"]


def commit_time(clone: Path, path: str) -> str:
    """nbgrader's timestamp (``2026-12-15 22:10:00.000000 UTC``) of the last commit touching ``path`` ("" if none)."""
    proc = subprocess.run(
        ["git", "-C", str(clone), "log", "-1", "--format=%ct", "--", path], capture_output=True, text=True
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        return ""
    return datetime.fromtimestamp(int(proc.stdout.strip()), UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _student(clone: Path, prefix: str) -> str:
    return clone.name[len(prefix) :] if prefix and clone.name.startswith(prefix) else clone.name


def _import_one(clone: Path, student: str, lab: str, dirs: CourseDirs) -> StepReport:
    """Copy one clone's ``release/<lab>/`` into ``submitted/<student>/<lab>/`` (replacing an earlier import)."""
    src = clone / "release" / lab
    stamp = commit_time(clone, f"release/{lab}")
    problems = inspect_submission(src) or ([] if stamp else ["no commit touches it"])
    if problems:
        return StepReport("import", lab, student, False, 0.0, f"{src}: not imported: {'; '.join(problems)}")
    dest = dirs.root / "submitted" / student / lab
    tmp = dest.with_name(f".{lab}.importing")
    shutil.rmtree(tmp, ignore_errors=True)
    problems = copy_submission(src, tmp)
    if problems:
        shutil.rmtree(tmp, ignore_errors=True)
        return StepReport("import", lab, student, False, 0.0, f"{src}: not imported: {'; '.join(problems)}")
    (tmp / "timestamp.txt").write_text(stamp)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return StepReport("import", lab, student, True, 0.0, f"last commit {stamp}")


def import_repos(
    folder: str | Path, labs: list[str] | None = None, prefix: str = "", dirs: CourseDirs | None = None
) -> Any:
    """Import every lab of every clone in ``folder`` (one row per clone and lab found; a bad one never stops the rest).

    Raises:
        CourseError: ``folder`` is not a folder.
    """
    dirs = dirs or course_dirs()
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseError(f"{folder} is not a folder.", "Clone the students' repositories into one folder first.")
    rows = []
    for clone in sorted(p for p in folder.iterdir() if (p / ".git").exists()):
        student = _student(clone, prefix)
        if not SAFE_STUDENT_ID.match(student):
            rows.append(StepReport("import", "", student, False, 0.0, f"{clone.name}: not a student id the kit grades"))
            continue
        for lab in labs or assignments(dirs):
            if (clone / "release" / lab).exists():
                rows.append(_import_one(clone, student, lab, dirs))
    return steps_frame(rows)
