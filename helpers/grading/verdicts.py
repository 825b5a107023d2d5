"""Graded checks decided outside the student's kernel: each lab's verdicts, computed from the submitted files.

A lab's answers are real files in its folder (a Dockerfile, an ignore file, a script, a workflow). Each lab
module (:data:`LAB_MODULES`) has ``verdicts(sub: Submission) -> dict[grade_id, Verdict]``: it builds, runs
and reads those files on whatever engine the environment points at. On the grader that is the grading
engine, in a child process the student's kernel never touches (:mod:`helpers.grading.verdict_apply`
starts it and writes the scores into the gradebook); in the student's notebook, :func:`self_check` runs
the same function on the student's own engine, as a self-check whose score the grader overwrites.

Why files and not names: anything in the kernel (variables, functions, ``os.environ``, hooks) is the
student's to change; the files are what the student hands in, and the grader reads them within bounds.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from helpers.engine.client import engine_available
from helpers.errors import CourseError
from helpers.grading.engine_env import current_grading_engine, engine_client
from helpers.grading.facts import GradingSpec, load_spec
from helpers.grading.limits import explain_failure
from helpers.grading.session import GradingSession

__all__ = [
    "CheckFailed",
    "GradingRefused",
    "LAB_MODULES",
    "MAX_FILE_BYTES",
    "Submission",
    "Verdict",
    "compute",
    "self_check",
]

#: Lab (assignment folder) -> the module whose ``verdicts(sub)`` grades it.
LAB_MODULES = {
    "lab1-build-basics": "helpers.grading.labs.lab1",
    "lab2-improve-dockerfile": "helpers.grading.labs.lab2",
    "lab3-security-scan": "helpers.grading.labs.lab3",
    "lab4-publish": "helpers.grading.labs.lab4",
    "lab5-automate-builds": "helpers.grading.labs.lab5",
    "activity-shrink-image": "helpers.grading.labs.shrink",
}

#: A student file is read up to this size; a bigger one is read as missing (and the verdict says so).
MAX_FILE_BYTES = 256 * 1024
#: The submitted notebook is parsed for answers up to this size.
MAX_NOTEBOOK_BYTES = 4 * 1024 * 1024


class CheckFailed(AssertionError):
    """A self-check that did not pass (the grader's words for it)."""


class GradingRefused(CourseError):
    """A lab's check refused what a student's file asked for (another context, branch or Dockerfile)."""


@dataclass(frozen=True)
class Verdict:
    """One graded cell's outcome, decided by the grader: passed or not, and one or two lines saying what it saw."""

    passed: bool
    said: str


class Submission:
    """A student's lab folder, read within bounds (never executed).

    Attributes:
        folder: The lab folder (plain files and folders: intake refused anything else).
        spec: The lab's ``grading.yml`` (graded settings come from there, never from the notebook).
        assignment: The lab's name.
    """

    def __init__(self, folder: str | Path, spec: GradingSpec) -> None:
        self.folder = Path(folder)
        self.spec = spec
        self.assignment = spec.assignment
        self.too_big: list[str] = []
        self._answers: dict[str, Any] | None = None

    def path(self, name: str) -> Path | None:
        """``name`` inside the folder if it is a regular file there (no link, no ``..``), else None."""
        p = self.folder / name
        try:
            inside = p.resolve().is_relative_to(self.folder.resolve())
        except (OSError, RuntimeError):
            return None
        return p if inside and p.is_file() and not p.is_symlink() else None

    def text(self, name: str) -> str | None:
        """A student file as text (at most :data:`MAX_FILE_BYTES`; a bigger one counts as missing)."""
        p = self.path(name)
        if p is None:
            return None
        with p.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            self.too_big.append(name)
            return None
        return data.decode("utf-8", errors="replace")

    def answer(self, name: str, default: Any = None) -> Any:
        """A top-level ``NAME = <literal>`` of the submitted notebook's code cells (the last one wins).

        Read with :func:`ast.literal_eval`: nothing the student wrote runs here.
        """
        if self._answers is None:
            self._answers = _notebook_answers(self.path(f"{self.assignment}.ipynb"))
        return self._answers.get(name, default)


def _notebook_answers(path: Path | None) -> dict[str, Any]:
    """Every top-level ``NAME = literal`` assignment in a notebook's code cells, in order."""
    if path is None or path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return {}
    try:
        cells = json.loads(path.read_text(errors="replace")).get("cells", [])
    except (ValueError, AttributeError):
        return {}
    out: dict[str, Any] = {}
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        try:
            tree = ast.parse("\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("!", "%"))))
        except (SyntaxError, ValueError, RecursionError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                try:
                    out[node.targets[0].id] = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                    out.pop(node.targets[0].id, None)
    return out


def _lab_function(assignment: str) -> Callable[[Submission], dict[str, Verdict]]:
    """The lab's ``verdicts`` function.

    Raises:
        CourseError: The lab has no module of verdicts.
    """
    if assignment not in LAB_MODULES:
        raise CourseError(f"{assignment} has no graded checks of its own", f"Known: {', '.join(LAB_MODULES)}.")
    return importlib.import_module(LAB_MODULES[assignment]).verdicts


def compute(assignment: str, folder: str | Path, spec: GradingSpec | None = None) -> dict[str, Verdict]:
    """Every verdict the lab's ``grading.yml`` lists, for the files in ``folder``, on the current engine.

    Runs in a :class:`~helpers.grading.session.GradingSession` (tags unique to this run, removed after).
    A cell the lab's function did not decide, or a failure of the function itself, is a failed verdict:
    a grade never passes by default.
    """
    spec = spec or load_spec(assignment)
    session = GradingSession(build_timeout=spec.build_timeout)
    try:
        with session.active():
            got = _lab_function(assignment)(Submission(folder, spec))
    except CourseError as e:
        got, why = {}, f"the grader could not check this: {e.message}"
    except Exception as e:  # noqa: BLE001  (student files made a kit function fail: every check fails)
        got, why = {}, f"the grader could not check this ({type(e).__name__}: {str(e)[:300]})"
    else:
        why = "the grader did not check this cell"
    finally:
        session.close()
        _prune_grading_cache()
    cells = spec.verdicts or tuple(got)
    return {cell: _naming_bound(got.get(cell) or Verdict(False, why)) for cell in cells}


def _naming_bound(v: Verdict) -> Verdict:
    """A failed verdict whose words show a grading engine bound was hit, with one sentence naming that bound."""
    return v if v.passed else Verdict(False, explain_failure(v.said))


def _prune_grading_cache() -> None:
    """On the grading engine only: drop every build cache record (layers and cache mounts) this submission left.

    The grader runs one submission's checks at a time (:mod:`helpers.grading.verdict_apply`), so no cache
    of one student's build is ever seen by another's. On a student's own engine nothing is pruned.
    """
    engine = current_grading_engine()
    if engine is None:
        return
    try:
        engine_client(engine, timeout=120).api.prune_builds(all=True)
    except Exception as e:  # noqa: BLE001  (the next submission starts with a cache: say so in the log)
        print(f"warning: the grading engine's build cache was not pruned: {e}", file=sys.stderr)


_SELF: dict[tuple[str, str], dict[str, Verdict]] = {}


def _assignment_of(folder: Path) -> str:
    """The lab a folder holds: its name, or the name of the lab notebook in it."""
    if folder.name in LAB_MODULES:
        return folder.name
    for nb in sorted(folder.glob("*.ipynb")):
        if nb.stem in LAB_MODULES:
            return nb.stem
    raise CourseError(f"{folder} is not a lab folder", "Run the notebook from its lab folder.")


def _fingerprint(folder: Path) -> str:
    """A hash of the lab folder's files other than notebooks (what the verdicts read)."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts and p.stat().st_size < 1 << 20:
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def self_check(grade_id: str, folder: str | Path | None = None) -> None:
    """Run the grader's check ``grade_id`` on your files and your engine; raise :class:`CheckFailed` if it fails.

    Your score is decided by the grader on its own engine from the files you hand in; this shows you now
    what it will say. The lab's checks run once per version of your files (the result is kept).

    Where no engine answers it only says so: the grader checks it when your lab is graded.
    """
    folder = Path(folder or Path.cwd())
    if not engine_available():
        print("No Docker Engine answers here: the grader checks this on its own engine when your lab is graded.")
        return
    assignment = _assignment_of(folder)
    answers = _notebook_answers(Submission(folder, GradingSpec(assignment)).path(f"{assignment}.ipynb"))
    key = (assignment, _fingerprint(folder), repr(sorted(answers.items())))  # files and the saved answers
    if key not in _SELF:
        _SELF[key] = compute(assignment, folder, load_spec(assignment))
    verdict = _SELF[key].get(grade_id) or Verdict(False, f"{grade_id} is not a graded check of {assignment}")
    if not verdict.passed:
        raise CheckFailed(verdict.said)
    print("passed:", verdict.said)


def main(argv: list[str]) -> int:
    """``python -m helpers.grading.verdicts ASSIGNMENT FOLDER OUT``: the grader's child writes the verdicts as JSON."""
    assignment, folder, out = argv
    result = compute(assignment, folder)
    Path(out).write_text(json.dumps({k: asdict(v) for k, v in result.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
