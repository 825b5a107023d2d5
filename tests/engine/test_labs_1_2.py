"""Labs 1 and 2 through the real `nbgrader autograde`, on the real engine, in a throwaway course.

The reference solution (the source notebook) must get full marks; the unedited release version zero.
Each run has its own course directory, gradebook and exchange (nothing in the checkout is touched).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABS = ["lab1-build-basics", "lab2-improve-dockerfile"]

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def _nbgrader(course: Path, db: str, *args: str) -> subprocess.CompletedProcess:
    # nbgrader runs `alembic` from PATH when it creates a gradebook: put this Python's bin first
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, COURSE_EXCHANGE=str(course.parent / "exchange"), PATH=path)
    env.pop("NBGRADER_EXECUTION", None)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}",
                           f"--CourseDirectory.db_url={db}"], cwd=course, env=env, capture_output=True, text=True,
                          timeout=1500)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def graded(tmp_path_factory, engine):
    """Autograde the reference ('reference') and the unedited release ('blank') of both labs."""
    from nbgrader.api import Gradebook

    tmp = tmp_path_factory.mktemp("course")
    course = tmp / "course"
    (tmp / "exchange").mkdir(mode=0o777)
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    db = f"sqlite:///{tmp / 'gradebook.db'}"
    for student in ("reference", "blank"):
        _nbgrader(course, db, "db", "student", "add", student)
    for lab in LABS:
        shutil.copytree(ROOT / "source" / lab, course / "source" / lab)
        _nbgrader(course, db, "generate_assignment", lab, "--force")
        for student, origin in (("reference", "source"), ("blank", "release")):
            dest = course / "submitted" / student / lab
            dest.mkdir(parents=True)
            shutil.copy(ROOT / origin / lab / f"{lab}.ipynb", dest / f"{lab}.ipynb")
        _nbgrader(course, db, "autograde", lab, "--force")
    scores = {}
    with Gradebook(db) as gb:
        for lab in LABS:
            for student in ("reference", "blank"):
                sub = gb.find_submission(lab, student)
                scores[(lab, student)] = (sub.score, sub.max_score)
                nb = sub.notebooks[0]
                scores[(lab, student, "failed")] = [g.name for g in nb.grades if g.score < (g.max_score or 0)]
    return scores


@pytest.mark.parametrize("lab", LABS)
def test_reference_solution_gets_full_marks(graded, lab):
    """Does nbgrader autograde give the reference solution every point, hidden tests included?"""
    score, max_score = graded[(lab, "reference")]
    assert max_score >= 10
    assert score == max_score, f"failed cells: {graded[(lab, 'reference', 'failed')]}"


@pytest.mark.parametrize("lab", LABS)
def test_unedited_release_gets_zero(graded, lab):
    """Does the unedited student version score zero (every graded cell fails on its stubs)?"""
    score, max_score = graded[(lab, "blank")]
    assert max_score >= 10 and score == 0


def test_release_version_contains_no_solution_or_hidden_test():
    """Do the release notebooks keep stubs only, with no reference answer and no hidden check?"""
    for lab in LABS:
        text = (ROOT / "release" / lab / f"{lab}.ipynb").read_text()
        assert "NotImplementedError" in text
        for leaked in ("BEGIN SOLUTION", "HIDDEN TESTS", "libpq5 \\\\\\\\", "pytest\\\", \\\"-q", "secret_like_env"):
            assert leaked not in text, f"{lab}: {leaked!r} leaked into release/"
