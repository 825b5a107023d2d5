"""A throwaway course for the instructor-workflow tests: the fixture assignments plus the root config."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from helpers import course

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "course"


def make_course(names: tuple[str, ...] = ("ps1",)) -> tuple[course.CourseDirs, Path]:
    """A course root under /tmp (readable by other uids, unlike pytest's tmp_path), released.

    Returns the course dirs and the base folder (remove it when done).
    """
    base = Path(tempfile.mkdtemp(prefix="course-test-"))
    os.chmod(base, 0o755)
    root = base / "course"
    (root / "source").mkdir(parents=True)
    for name in names:
        shutil.copytree(FIXTURE / "source" / name, root / "source" / name)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    dirs = course.course_dirs(root, base / "exchange")
    rel = course.release(names, dirs)
    assert rel["ok"].all(), rel.to_string()
    return dirs, base


def scores(dirs: course.CourseDirs, assignment: str) -> dict[str, float]:
    df = course.grades(dirs.root / "grades.csv", dirs)
    df = df[df["assignment"] == assignment]
    return {str(r.student_id): float(r.score) for r in df.itertuples() if str(r.timestamp) != "nan"}
