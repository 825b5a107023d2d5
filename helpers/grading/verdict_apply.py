"""The grader writes its verdicts: run a lab's checks in a child process, then set the gradebook's scores.

After nbgrader has autograded a submission in the sandbox, :func:`apply_verdicts` runs
``python -m helpers.grading.verdicts`` on the submitted files (in the grader's environment: the grading
engine, never the student's kernel), then, for every cell the lab's ``grading.yml`` lists under
``verdicts:``, overwrites the score the kernel's run gave with the grader's (full points or 0) and puts
the grader's words in that cell's output, which the student sees in the feedback. If the checks cannot
run (a crash, a timeout), every listed cell scores 0: a grade never passes by default.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from helpers.grading.engine_env import GRADING_ENV
from helpers.grading.facts import GradingSpec
from helpers.grading.gradebook import open_gradebook
from helpers.grading.nbgrader_run import CourseDirs
from helpers.grading.verdicts import Verdict
from helpers.paths import PACKAGE_DIR, state_dir

__all__ = ["apply_verdicts", "fail_verdicts", "run_checks", "VERDICTS_FILE"]

#: Kept beside the autograded notebook for the instructor (feedback releases only the HTML page).
VERDICTS_FILE = "grading_verdicts.json"
#: The most a child's answer may hold (it is ours, but it quotes student files and logs).
MAX_ANSWER_BYTES = 1 << 20

_GRADEBOOK = threading.Lock()  # autograde's workers are threads: one gradebook writer at a time
#: One submission's checks at a time on the grading engine: its build cache is pruned after each, so no
#: student's build ever sees another's layers or cache mounts (the notebooks still run in parallel).
_ENGINE = threading.Lock()


def run_checks(spec: GradingSpec, folder: Path, env: dict[str, str], root: Path) -> dict[str, Verdict]:
    """The lab's verdicts for ``folder``, computed in a child process with ``env`` (the grading engine's).

    The child reads the lab's ``grading.yml`` under the course ``root`` and keeps the kit's state directory.
    """
    with tempfile.TemporaryDirectory(prefix="course-verdicts-") as tmp:
        out, log = Path(tmp) / "verdicts.json", Path(tmp) / "log.txt"
        cmd = [sys.executable, "-m", "helpers.grading.verdicts", spec.assignment, str(folder), str(out)]
        child_env = {
            **os.environ,
            "COURSE_ROOT": str(root),
            "COURSE_STATE_DIR": str(state_dir()),
            **env,
            "PYTHONPATH": os.pathsep.join([str(PACKAGE_DIR.parent), os.environ.get("PYTHONPATH", "")]),
        }
        try:
            with log.open("wb") as f:
                proc = subprocess.run(
                    cmd, stdout=f, stderr=subprocess.STDOUT, env=child_env, timeout=spec.verdict_timeout, check=False
                )
            if proc.returncode != 0 or not out.exists() or out.stat().st_size > MAX_ANSWER_BYTES:
                why = f"the grader's checks stopped (exit {proc.returncode}): {_tail(log)}"
            else:
                raw = json.loads(out.read_text())
                got = {cell: Verdict(bool(raw[cell]["passed"]), str(raw[cell]["said"])) for cell in raw}
                unchecked = Verdict(False, "the grader did not check this cell")
                return {cell: got.get(cell) or unchecked for cell in spec.verdicts}
        except subprocess.TimeoutExpired:
            why = f"the grader's checks took longer than {spec.verdict_timeout} s"
    return {cell: Verdict(False, why) for cell in spec.verdicts}


def _tail(log: Path, n: int = 400) -> str:
    """The last characters of a child's log (bounded read)."""
    with log.open("rb") as f:
        f.seek(max(0, log.stat().st_size - n))
        return f.read().decode(errors="replace").strip()


def apply_verdicts(
    spec: GradingSpec, student: str, dirs: CourseDirs, env: dict[str, str], folder: Path | None = None
) -> str:
    """Decide the lab's listed cells for one autograded submission; returns a one-line summary.

    Args:
        spec: The lab's grading spec (``verdicts`` lists the cells the grader decides).
        student: The student's id.
        dirs: The course.
        env: The grader's environment additions (the grading engine).
        folder: The submitted files (default: ``autograded/<student>/<lab>``, intake-checked copies).
    """
    lab = spec.assignment
    folder = folder or dirs.root / "autograded" / student / lab
    with _ENGINE:
        verdicts = run_checks(spec, folder, env, dirs.root)
    _write_gradebook(dirs, lab, student, verdicts)
    _annotate(folder / f"{lab}.ipynb", verdicts)
    where = json.loads(env.get(GRADING_ENV, "{}")).get("docker_host") or os.environ.get("DOCKER_HOST", "local")
    record = {"engine": where, "cells": {k: v.__dict__ for k, v in verdicts.items()}}
    (folder / VERDICTS_FILE).write_text(json.dumps(record, indent=1))
    passed = sum(v.passed for v in verdicts.values())
    return f"{passed}/{len(verdicts)} checks passed on the grading engine"


def fail_verdicts(spec: GradingSpec, student: str, dirs: CourseDirs) -> None:
    """Score 0 on every cell the grader decides (its checks could not be applied); best effort."""
    try:
        _write_gradebook(dirs, spec.assignment, student, dict.fromkeys(spec.verdicts, Verdict(False, "")))
    except Exception:  # noqa: BLE001  (the row already says grading failed)
        pass


def _write_gradebook(dirs: CourseDirs, lab: str, student: str, verdicts: dict[str, Verdict]) -> None:
    """Set each listed cell's auto score: its points when passed, 0 otherwise (a busy database is retried)."""
    from nbgrader.api import MissingEntry

    for attempt in range(10):
        try:
            with _GRADEBOOK, open_gradebook(dirs) as gb:
                for cell, v in verdicts.items():
                    try:
                        grade = gb.find_grade(cell, lab, lab, student)
                    except MissingEntry:
                        continue  # not a graded cell of this notebook: nothing to overwrite
                    grade.auto_score = float(grade.max_score) if v.passed else 0.0
                gb.db.commit()
            return
        except Exception as e:  # sqlite "database is locked" from another nbgrader process: retried
            if "locked" not in str(e) or attempt == 9:
                raise
            time.sleep(0.5 + attempt)


def _annotate(path: Path, verdicts: dict[str, Verdict]) -> None:
    """Replace each decided cell's output with the grader's words (what the feedback shows)."""
    import nbformat

    if not path.is_file():
        return
    nb: Any = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if cell.cell_type == "code" and gid in verdicts:
            v = verdicts[gid]
            text = f"Graded on the grader's own engine from your files: {'passed' if v.passed else 'NOT passed'}.\n"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text + v.said + "\n")]
    nbformat.write(nb, path)
