"""The instructor's workflow, one function per step, over nbgrader's own apps.

``release`` -> ``collect`` -> ``autograde`` (in the sandbox, see :mod:`helpers.grading.sandbox`) ->
``feedback`` -> ``grades``. Each runs nbgrader at the course root with the root
``nbgrader_config.py``; each returns a pandas DataFrame of :class:`StepReport` rows and never
prints. Problems with one student (not a notebook, tampered tests, odd id) are reported on that
student's row; the other students are graded as usual.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from helpers.errors import CourseError
from helpers.grading.engine import ensure_grading_engine, grading_engine_env
from helpers.grading.facts import load_spec
from helpers.grading.sandbox import IMAGE_ENV, grader_image
from helpers.paths import PACKAGE_DIR, course_root, state_dir

__all__ = [
    "CourseError",
    "CourseDirs",
    "StepReport",
    "course_dirs",
    "assignments",
    "ensure_exchange",
    "nbgrader",
    "release",
    "collect",
    "check_submission",
    "autograde",
    "feedback",
    "grades",
    "SAFE_STUDENT_ID",
]

#: Student ids the kit grades (others are reported, not graded): letters, digits, . _ @ -
SAFE_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
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
    kit = str(PACKAGE_DIR.parent)  # so nbgrader can import helpers.grading.nbgrader_sandbox
    return os.pathsep.join([kit] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])


def _tail(proc: subprocess.CompletedProcess[str], n: int = 6) -> str:
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "[ERROR]" in ln or "Error" in ln or "error" in ln]
    return "\n".join((lines or (proc.stdout + proc.stderr).splitlines())[-n:])


def _frame(rows: Iterable[StepReport]) -> Any:
    import pandas as pd

    return pd.DataFrame([asdict(r) for r in rows], columns=list(StepReport.__dataclass_fields__))


def _step(
    step: str, assignment: str, args: list[str], dirs: CourseDirs, student: str = "", env: dict[str, str] | None = None
) -> StepReport:
    start = time.monotonic()
    proc = nbgrader(args, dirs, env=env)
    ok = proc.returncode == 0
    return StepReport(step, assignment, student, ok, round(time.monotonic() - start, 2), "" if ok else _tail(proc))


def release(names: Iterable[str] | None = None, dirs: CourseDirs | None = None) -> Any:
    """Generate every lab (``source/`` -> ``release/``) and release it to the exchange."""
    dirs = dirs or course_dirs()
    ensure_exchange(dirs)
    rows = []
    for a in names or assignments(dirs):
        rows.append(_step("generate", a, ["generate_assignment", a, "--force"], dirs))
        if rows[-1].ok:
            rows.append(_step("release", a, ["release_assignment", a, "--force"], dirs))
    return _frame(rows)


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
        _step(
            "collect", assignment, ["collect", assignment, "--update", f"--CollectApp.check_owner={check_owner}"], dirs
        )
    ]
    for student in _submitted(assignment, dirs):
        problems = check_submission(assignment, student, dirs)
        rows.append(StepReport("check", assignment, student, not problems, 0.0, "; ".join(problems)))
    return _frame(rows)


def _submitted(assignment: str, dirs: CourseDirs) -> list[str]:
    sub = dirs.root / "submitted"
    return sorted(p.name for p in sub.iterdir() if (p / assignment).is_dir()) if sub.is_dir() else []


def check_submission(assignment: str, student: str, dirs: CourseDirs | None = None) -> list[str]:
    """What is wrong with one submission, in words ([] when nothing).

    Blocking problems (the submission is not graded): an unusable student id, a notebook that is
    not a notebook, a missing notebook. Tampered tests are reported but graded: nbgrader restores
    every test cell from the gradebook before running anything.
    """
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import compute_checksum

    dirs = dirs or course_dirs()
    if not SAFE_STUDENT_ID.match(student):
        return [
            f"student id {student!r} has characters the kit does not grade (use letters, digits, . _ @ -): "
            "not graded; rename the folder under submitted/ and run autograde again"
        ]
    problems = []
    folder = dirs.root / "submitted" / student / assignment
    with Gradebook(f"sqlite:///{dirs.root / 'gradebook.db'}", dirs.course_id) as gb:
        try:
            notebooks = gb.find_assignment(assignment).notebooks
        except MissingEntry:
            return [f"assignment {assignment!r} is not in the gradebook: run `make release` first"]
        for nb_entry in notebooks:
            path = folder / f"{nb_entry.name}.ipynb"
            if not path.exists():
                problems.append(f"{path.name} is missing (scored 0)")
                continue
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception as e:  # noqa: BLE001  (any unreadable file)
                problems.append(
                    f"{path.name} is not a notebook ({type(e).__name__}): not graded; "
                    "ask the student to submit the .ipynb file again"
                )
                continue
            cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
            reference = _release_checksums(dirs.root / "release" / assignment / path.name)
            tests = {g.name for g in nb_entry.grade_cells} - {s.name for s in nb_entry.solution_cells}
            for src in nb_entry.source_cells:
                if not (src.locked or src.name in tests):
                    continue
                cell = cells.get(src.name)
                expected = reference.get(src.name, src.checksum)
                if cell is None:
                    problems.append(f"{path.name}: test cell {src.name!r} was deleted (restored for grading)")
                elif expected and compute_checksum(cell) != expected:
                    problems.append(
                        f"{path.name}: cell {src.name!r} or its grading metadata was changed "
                        "(restored from the gradebook for grading)"
                    )
    return problems


def _release_checksums(path: Path) -> dict[str, str]:
    """grade_id -> checksum of the cells as released (hidden tests removed), from the trusted release/."""
    import nbformat
    from nbgrader.utils import compute_checksum

    if not path.exists():
        return {}
    nb = nbformat.read(path, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: compute_checksum(c)
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }


def _blocking(problems: list[str]) -> bool:
    return any("not graded" in p or "not in the gradebook" in p for p in problems)


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
    students = list(students or _submitted(assignment, dirs))
    env = {}
    if sandbox:
        env[IMAGE_ENV] = grader_image()  # build once, before the workers start
        spec = load_spec(assignment, root=dirs.root)
        if spec.engine or spec.queries:  # the lab's engine work goes to an engine that holds nothing of yours
            env.update(grading_engine_env(ensure_grading_engine(log)))
    extra = [f"--Autograde.autograde_preprocessors={p}" for p in SANDBOX_PREPROCESSORS] if sandbox else []

    def one(student: str) -> StepReport:
        problems = check_submission(assignment, student, dirs)
        if _blocking(problems):
            return StepReport("autograde", assignment, student, False, 0.0, "; ".join(problems))
        rep = StepReport("autograde", assignment, student, False)
        for attempt in range(3):  # the gradebook is SQLite: a busy database is retried
            rep = _step(
                "autograde",
                assignment,
                ["autograde", assignment, f"--student={student}", "--force", *extra],
                dirs,
                student,
                env,
            )
            if rep.ok or "database is locked" not in rep.message:
                break
            time.sleep(1 + attempt)
        rep.message = "; ".join([m for m in [rep.message, *problems] if m])
        return rep

    with ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1)) as pool:
        return _frame(pool.map(one, students))


def feedback(assignment: str, dirs: CourseDirs | None = None) -> Any:
    """Generate feedback (hidden tests stay hidden: see ``nbgrader_config.py``) and release it."""
    dirs = dirs or course_dirs()
    _require_exchange(dirs)
    rows = [
        _step(
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
        rows.append(_step("release_feedback", assignment, ["release_feedback", assignment], dirs))
    return _frame(rows)


def grades(csv_path: str | os.PathLike[str] | None = None, dirs: CourseDirs | None = None) -> Any:
    """Export the gradebook to CSV (nbgrader ``export``) and return it as a DataFrame."""
    import pandas as pd

    dirs = dirs or course_dirs()
    out = Path(csv_path or dirs.root / "grades.csv").resolve()
    proc = nbgrader(["export", f"--to={out}"], dirs)
    if proc.returncode != 0 or not out.exists():
        raise CourseError(f"nbgrader export failed: {_tail(proc)}", "Run `make autograde` first, then try again.")
    return pd.read_csv(out)
