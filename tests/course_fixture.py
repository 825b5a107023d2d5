"""A throwaway course for the instructor-workflow tests: the fixture assignments plus the root config."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from helpers.grading import course, nbgrader_run

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "course"
#: Each lab's reference answer files (``<lab>/reference/``): what a student who answered fully writes.
REFERENCE = ROOT / "tests" / "data" / "labs"


def make_course(
    names: tuple[str, ...] = ("ps1",), source: Path | None = None, prefix: str = "course-test-"
) -> tuple[nbgrader_run.CourseDirs, Path]:
    """A course root under /tmp (readable by other uids, unlike pytest's tmp_path), released.

    Args:
        names: Assignments to copy from ``source`` (default: the fixture course's source/).

    Returns the course dirs and the base folder (remove it when done).
    """
    base = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(base, 0o755)
    root = base / "course"
    (root / "source").mkdir(parents=True)
    for name in names:
        shutil.copytree((source or FIXTURE / "source") / name, root / "source" / name)
    if source is not None:
        (root / "sample_python_app").symlink_to(ROOT / "sample_python_app")  # the kit's labs build it
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    dirs = nbgrader_run.course_dirs(root, base / "exchange")
    rel = course.release(names, dirs)
    assert rel["ok"].all(), rel.to_string()
    return dirs, base


def scores(dirs: nbgrader_run.CourseDirs, assignment: str, all_labs: bool = False) -> Any:
    """student -> score of one assignment (``all_labs``: assignment -> student -> score, one export)."""
    df = course.grades(dirs.root / "grades.csv", dirs)
    df = df[df["timestamp"].astype(str) != "nan"]
    by_lab: dict[str, dict[str, float]] = {}
    for r in df.itertuples():
        by_lab.setdefault(str(r.assignment), {})[str(r.student_id)] = float(r.score)
    return by_lab if all_labs else by_lab.get(assignment, {})


def make_lab_course(labs: tuple[str, ...]) -> tuple[nbgrader_run.CourseDirs, Path]:
    """A throwaway course holding the kit's real labs (released), sharing the kit's sample app."""
    return make_course(labs, source=ROOT / "source", prefix="course-labs-")


def submit_notebook(dirs: nbgrader_run.CourseDirs, lab: str, student: str, nb: Any) -> None:
    """Put a notebook where ``collect`` would (submitted/<student>/<lab>/), skipping the exchange."""
    import nbformat

    dest = dirs.root / "submitted" / student / lab
    dest.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest / f"{lab}.ipynb")
    (dest / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")


def submit_files(dirs: nbgrader_run.CourseDirs, lab: str, student: str, folder: Path) -> None:
    """Lay the files of ``folder`` (a lab's answer files, no notebook) into a submission, as the student saved them."""
    dest = dirs.root / "submitted" / student / lab
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(folder, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.ipynb"))


def submit_lab(dirs: nbgrader_run.CourseDirs, lab: str, student: str, nb: Any, answers: bool) -> None:
    """A submission as collect leaves it: the released lab folder, the student's notebook, their answer files.

    Args:
        nb: The student's notebook.
        answers: Lay the lab's reference answer files (:data:`REFERENCE`) over the released starters.
    """
    submit_files(dirs, lab, student, ROOT / "release" / lab)
    if answers and (REFERENCE / lab / "reference").is_dir():
        submit_files(dirs, lab, student, REFERENCE / lab / "reference")
    submit_notebook(dirs, lab, student, nb)


def submit_reference(dirs: nbgrader_run.CourseDirs, lab: str, student: str) -> None:
    """What a student who answered everything hands in: the source notebook's solutions and the reference files."""
    import nbformat

    submit_lab(dirs, lab, student, nbformat.read(ROOT / "source" / lab / f"{lab}.ipynb", as_version=4), True)
