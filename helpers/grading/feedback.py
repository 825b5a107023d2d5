"""Feedback for students: what they receive is inert, holds no hidden test, and is only their notebooks' pages.

:func:`feedback` runs nbgrader's ``generate_feedback`` once per student (one bad notebook fails only that
student's row), with :data:`FEEDBACK_PREPROCESSORS` (see :mod:`helpers.grading.nbgrader_sandbox`), with no
other file of ``autograded/`` copied (``grading_verdicts.json`` quotes what the grader saw), and removes
anything but ``<notebook>.html`` from ``feedback/`` before ``release_feedback``. The functions below are
the rules those preprocessors apply, kept free of nbgrader so they can be tested on their own:

- outputs keep only ``text/plain``, PNG and JPEG (:func:`inert_output`): no HTML, Markdown, SVG,
  JavaScript or widgets, no output metadata (image sizes are written into ``<img>`` unquoted);
- a Markdown or raw cell that is not the instructor's text is shown as escaped plain text
  (:func:`escaped_markdown`): nbconvert renders raw HTML and ``javascript:`` links as they are;
- hidden-test regions are cut without ever raising (:func:`clear_hidden_region`), and hidden-test
  lines quoted in any output are redacted (:func:`redact`).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from helpers.grading.nbgrader_run import CourseDirs, StepReport, course_dirs, require_exchange, run_step, steps_frame
from helpers.grading.submissions import SAFE_STUDENT_ID

__all__ = [
    "FEEDBACK_PREPROCESSORS",
    "feedback",
    "prune_feedback",
    "clear_hidden_region",
    "hidden_lines",
    "redact",
    "redact_output",
    "inert_output",
    "escaped_markdown",
    "instructor_texts",
]

FEEDBACK_PREPROCESSORS = (
    "nbgrader.preprocessors.GetGrades",
    "helpers.grading.nbgrader_sandbox.ClearHiddenTracebacks",
    "helpers.grading.nbgrader_sandbox.ClearHiddenTestsSafely",
    "helpers.grading.nbgrader_sandbox.InertFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
)
#: generate_feedback options besides the preprocessors: copy no other file of autograded/ (nbgrader copies
#: every file its ignore globs do not match), and let nbconvert clean what HTML is left, as nbviewer does
FEEDBACK_OPTIONS = ("--CourseDirectory.ignore=*", "--CourseDirectory.ignore=.*", "--HTMLExporter.sanitize_html=True")
HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
HIDDEN_END = "END HIDDEN TESTS"
INERT_MIMETYPES = ("text/plain", "image/png", "image/jpeg")
REDACTED = "[hidden test]"
#: the files of autograded/ that release_feedback needs beside the pages (it never releases them)
RECEIPTS = ("timestamp.txt", "submission_secret.txt")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")


def clear_hidden_region(source: str, begin: str = HIDDEN_BEGIN, end: str = HIDDEN_END) -> tuple[str, bool]:
    """The source without its hidden-test regions, and whether it had one.

    Unlike nbgrader's ``ClearHiddenTests``, never raises: a ``begin`` with no ``end`` (a student can type
    the marker in their own cell) hides the rest of the cell, a nested ``begin`` stays hidden.
    """
    kept, hiding, found = [], False, False
    for line in source.split("\n"):
        if begin in line:
            hiding = found = True
        elif end in line and hiding:
            hiding = False
        elif not hiding:
            kept.append(line)
    return "\n".join(kept), found


def hidden_lines(sources: Iterable[str], begin: str = HIDDEN_BEGIN, end: str = HIDDEN_END) -> list[str]:
    """The lines inside hidden-test regions (stripped, long enough to redact without false alarms)."""
    lines, hiding = [], False
    for source in sources:
        for line in source.split("\n"):
            if begin in line:
                hiding = True
            elif end in line:
                hiding = False
            elif hiding and len(line.strip()) >= 6:
                lines.append(line.strip())
        hiding = False
    return sorted(set(lines), key=len, reverse=True)


def redact(text: str, lines: Iterable[str]) -> str:
    """``text`` with every hidden-test line (as written, or as Python's repr writes it) replaced."""
    for line in lines:
        for form in {line, repr(line)[1:-1], html.escape(line)}:
            text = text.replace(form, REDACTED)
    return text


def redact_output(out: Any, lines: list[str]) -> None:
    """Redact hidden-test lines from an output's texts (stream, error, ``text/*`` data), in place."""
    if not lines or not isinstance(out, dict):
        return
    for key in ("text", "evalue"):
        if key in out:
            out[key] = redact(_text(out[key]), lines)
    if isinstance(out.get("traceback"), list):
        out["traceback"] = [redact(_text(t), lines) for t in out["traceback"]]
    data = out.get("data")
    for key in list(data) if isinstance(data, dict) else []:
        if key.startswith("text/"):
            data[key] = redact(_text(data[key]), lines)


def _text(value: Any) -> str:
    return "".join(map(str, value)) if isinstance(value, list) else str(value)


def inert_output(out: Any) -> dict[str, Any] | None:
    """An output reduced to what renders inert (``None``: nothing of it may be shown).

    Streams and errors keep their text (nbconvert escapes it); rich outputs keep ``text/plain`` and
    PNG/JPEG whose data is base64; everything else (HTML, Markdown, SVG, JavaScript, widgets, LaTeX,
    unknown types) and all output metadata are dropped.
    """
    kind = out.get("output_type") if isinstance(out, dict) else None
    if kind == "stream":
        name = "stderr" if out.get("name") == "stderr" else "stdout"
        return {"output_type": "stream", "name": name, "text": _text(out.get("text", ""))}
    if kind == "error":
        tb = out.get("traceback")
        lines = [_text(t) for t in tb] if isinstance(tb, list) else []
        return {
            "output_type": "error",
            "ename": _text(out.get("ename", "Error")),
            "evalue": _text(out.get("evalue", "")),
            "traceback": lines,
        }
    if kind not in ("display_data", "execute_result") or not isinstance(out.get("data"), dict):
        return None
    data = {k: _text(v) for k, v in out["data"].items() if k in INERT_MIMETYPES}
    data = {k: v for k, v in data.items() if k == "text/plain" or _BASE64.match(v)}
    if not data:
        return None
    clean: dict[str, Any] = {"output_type": kind, "data": data, "metadata": {}}
    if kind == "execute_result":
        count = out.get("execution_count")
        clean["execution_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
    return clean


def escaped_markdown(source: str) -> str:
    """Markdown that shows ``source`` as plain preformatted text: no HTML, link, image or math of it is live.

    A ``<pre>`` HTML block is passed through by the Markdown renderer and ends only at ``</pre>``,
    which the escaped text cannot contain; MathJax skips ``pre`` and ``tex2jax_ignore``.
    """
    return f'<pre class="tex2jax_ignore">{html.escape(source)}</pre>'


def instructor_texts(root: Path, assignment: str, notebook: str) -> set[str]:
    """Sources of the Markdown and raw cells of the assignment's notebook in ``source/`` and ``release/``.

    A Markdown cell of the feedback with one of these sources is the instructor's text and is rendered;
    any other was written by the student. Unreadable notebooks give nothing (every cell is escaped).
    """
    texts: set[str] = set()
    for folder in ("source", "release"):
        try:
            cells = json.loads((root / folder / assignment / f"{notebook}.ipynb").read_text())["cells"]
            texts |= {_text(c["source"]) for c in cells if c.get("cell_type") in ("markdown", "raw")}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return texts


def prune_feedback(folder: Path, notebooks: Iterable[str]) -> list[str]:
    """Remove from a student's ``feedback/<student>/<assignment>`` anything but ``<notebook>.html`` pages and
    the :data:`RECEIPTS` ``release_feedback`` reads (it releases only the pages).

    Returns the names removed (links are removed, never followed).
    """
    keep = {f"{n}.html" for n in notebooks} | set(RECEIPTS)
    removed = []
    for entry in sorted(folder.iterdir()) if folder.is_dir() and not folder.is_symlink() else []:
        if entry.name in keep and entry.is_file() and not entry.is_symlink():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed.append(entry.name)
    return removed


def _copy_receipts(src: Path, dest: Path) -> str:
    """Copy nbgrader's receipts from ``autograded/`` (small regular files only); a problem, or ``""``."""
    for name in RECEIPTS:
        f = src / name
        if f.is_symlink() or not f.is_file() or f.stat().st_size > 4096:
            return f"autograded/ has no plain {name} for this student: feedback not released"
        shutil.copyfile(f, dest / name)
    return ""


def _graded(assignment: str, dirs: CourseDirs) -> list[str]:
    """Students with an autograded notebook of this assignment."""
    base = dirs.root / "autograded"
    return sorted(p.parent.name for p in base.glob(f"*/{assignment}") if p.is_dir() and any(p.glob("*.ipynb")))


def feedback(
    assignment: str, dirs: CourseDirs | None = None, students: Iterable[str] | None = None, workers: int | None = None
) -> Any:
    """Generate each student's feedback (inert, without hidden tests) and release the pages that were made.

    Args:
        students: Only these (default: every student with an autograded notebook).
        workers: Students in parallel (default: the machine's cores).

    Returns one ``generate_feedback`` row per student (a failure is that student's alone and is not
    released), then one ``release_feedback`` row.
    """
    dirs = dirs or course_dirs()
    require_exchange(dirs)
    names = list(students or _graded(assignment, dirs))
    with ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1)) as pool:
        rows = list(pool.map(lambda s: _feedback_one(assignment, s, dirs), names))
    notebooks = [p.stem for p in (dirs.root / "source" / assignment).glob("*.ipynb")]
    failed = {r.student for r in rows if not r.ok}
    for folder in (dirs.root / "feedback").glob(f"*/{assignment}"):
        prune_feedback(folder, notebooks)
        if not all((folder / name).is_file() for name in RECEIPTS):  # release_feedback would stop on it
            failed.add(folder.parent.name)
    if any(r.ok for r in rows):
        args = ["release_feedback", assignment]
        excluded = sorted(s for s in failed if SAFE_STUDENT_ID.match(s))
        if excluded:
            args.append(f"--CourseDirectory.student_id_exclude={','.join(excluded)}")
        rows.append(run_step("release_feedback", assignment, args, dirs))
    return steps_frame(rows)


def _feedback_one(assignment: str, student: str, dirs: CourseDirs) -> StepReport:
    """One student's ``generate_feedback`` (a busy gradebook is retried); a failure leaves no page behind."""
    if not SAFE_STUDENT_ID.match(student):
        return StepReport("generate_feedback", assignment, student, False, 0.0, "odd student id: not released")
    args = ["generate_feedback", assignment, f"--student={student}", "--force", *FEEDBACK_OPTIONS]
    args += [f"--GenerateFeedback.preprocessors={p}" for p in FEEDBACK_PREPROCESSORS]
    rep = StepReport("generate_feedback", assignment, student, False)
    for attempt in range(3):
        try:
            rep = run_step("generate_feedback", assignment, args, dirs, student)
        except subprocess.TimeoutExpired:
            rep = StepReport("generate_feedback", assignment, student, False, 0.0, "generate_feedback timed out")
        if rep.ok or "database is locked" not in rep.message:
            break
        time.sleep(1 + attempt)
    dest = dirs.root / "feedback" / student / assignment
    if rep.ok and dest.is_dir():
        problem = _copy_receipts(dirs.root / "autograded" / student / assignment, dest)
        rep = StepReport(rep.step, assignment, student, not problem, rep.seconds, problem) if problem else rep
    if not rep.ok:
        shutil.rmtree(dest, ignore_errors=True)
    return rep
