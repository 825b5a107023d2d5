"""The kit's nbgrader preprocessors: ``Execute`` whose kernel runs in a container, and feedback made safe.

Not imported by ``helpers/__init__`` (it imports nbgrader). ``python -m helpers course autograde``
configures nbgrader with ``--Autograde.autograde_preprocessors`` so that :class:`SandboxExecute`
replaces nbgrader's own ``Execute``; ``python -m helpers course feedback`` runs ``generate_feedback``
with :data:`helpers.grading.feedback.FEEDBACK_PREPROCESSORS` (:class:`ClearHiddenTracebacks`,
:class:`ClearHiddenTestsSafely`, :class:`InertFeedback`), whose rules live in :mod:`helpers.grading.feedback`.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from nbformat import from_dict
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor
from traitlets import Unicode

from helpers.grading.facts import load_spec
from helpers.grading.feedback import (
    HIDDEN_BEGIN,
    HIDDEN_END,
    clear_hidden_region,
    escaped_markdown,
    hidden_lines,
    inert_output,
    instructor_texts,
    redact_output,
)
from helpers.grading.sandbox import run_in_sandbox
from helpers.paths import course_root

__all__ = ["SandboxExecute", "ClearHiddenTracebacks", "ClearHiddenTestsSafely", "InertFeedback"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # cell ids and language names, as nbformat allows them


class SandboxExecute(Execute):
    """Like nbgrader's ``Execute``, but the student's notebook runs in the grading sandbox.

    Reads the lab's ``source/<assignment>/grading.yml`` for the sandbox's limits, runs the notebook there
    and returns the trusted notebook with the sandbox's outputs. Never runs student code here, and hands
    the sandbox nothing but the submission's own files: the cells a lab's ``grading.yml`` lists under
    ``verdicts:`` are decided afterwards, outside the sandbox (:mod:`helpers.grading.verdict_apply`).
    """

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        path = Path(resources.get("metadata", {}).get("path") or ".")
        assignment = resources.get("nbgrader", {}).get("assignment") or path.name
        spec = load_spec(assignment, root=course_root())
        result = run_in_sandbox(nb, path, spec.limits)
        if result.error:
            self.log.warning("Sandbox: %s", result.error)
        self.log.info("Sandbox ran the notebook in %.1f s", result.seconds)
        return result.notebook, resources


class ClearHiddenTracebacks(NbGraderPreprocessor):
    """Feedback preprocessor: no output shows a hidden test.

    nbgrader's ``ClearHiddenTests`` removes hidden tests from the cell's source, but outputs still can:
    the error quotes the failing line (and the assert's message), and the student's code, called by the
    hidden test or run after it, can print it (IPython keeps every cell's source in ``In``). In cells that
    hold hidden tests this keeps only the error's name (no other output); in every cell, hidden-test lines
    quoted in an output are redacted. Put it before ``ClearHiddenTestsSafely``.
    """

    begin = Unicode(HIDDEN_BEGIN).tag(config=True)
    end = Unicode(HIDDEN_END).tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        sources = [c.source for c in nb.cells if c.cell_type == "code"]
        self._hidden = hidden_lines(sources, self.begin, self.end)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        if cell.cell_type != "code":
            return cell, resources
        if self.begin in cell.source:
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            cell.outputs = []
            if errors:
                ename, evalue = (
                    str(errors[0].get("ename", "Error")),
                    "a test failed (details of hidden tests are not shown)",
                )
                cell.outputs = [
                    from_dict(
                        {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
                    )
                ]
        for out in cell.get("outputs", []):
            redact_output(out, self._hidden)
        return cell, resources


class ClearHiddenTestsSafely(ClearHiddenTests):
    """Feedback preprocessor: nbgrader's ``ClearHiddenTests`` that never raises.

    nbgrader's raises on a begin marker without an end, a nested one, or one outside a grade cell, and
    so fails the feedback of the whole run when a student types the marker text in their own cell. Here
    a begin marker without an end hides the rest of the cell (:func:`~helpers.grading.feedback.clear_hidden_region`).
    """

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        cell.source, _ = clear_hidden_region(cell.source, self.begin_test_delimeter, self.end_test_delimeter)
        return cell, resources


class InertFeedback(NbGraderPreprocessor):
    """Feedback preprocessor: what a student's browser renders of the feedback runs nothing.

    Outputs keep only text, PNG and JPEG (:func:`~helpers.grading.feedback.inert_output`); Markdown and
    raw cells that are not the instructor's (in ``source/`` or ``release/``) are shown as escaped text;
    attachments, cell and notebook metadata (widget state, tags, sizes) are dropped, except the grades
    ``GetGrades`` wrote. Put it after ``GetGrades`` and the hidden-test preprocessors.
    """

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        ids = resources.get("nbgrader", {})
        self._instructor = instructor_texts(course_root(), ids.get("assignment", ""), ids.get("notebook", ""))
        lang = (
            nb.metadata.get("language_info", {}).get("name")
            if isinstance(nb.metadata.get("language_info"), dict)
            else None
        )
        nb.metadata = from_dict(
            {"language_info": {"name": lang if isinstance(lang, str) and _NAME.match(lang) else "python"}}
        )
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        cell.metadata = from_dict(_inert_metadata(cell.get("metadata")))
        cell.pop("attachments", None)
        if "id" in cell and not _NAME.match(str(cell.id)):
            cell.id = f"cell-{index}"
        if cell.cell_type == "code":
            cell.outputs = [from_dict(o) for o in map(inert_output, cell.get("outputs", [])) if o]
            if not isinstance(cell.get("execution_count"), int) or isinstance(cell.execution_count, bool):
                cell.execution_count = None
        elif cell.cell_type == "markdown":
            if cell.source not in self._instructor:
                cell.source = escaped_markdown(cell.source)
        elif cell.cell_type != "raw" or cell.source not in self._instructor:
            cell.cell_type, cell.source = "raw", ""
        return cell, resources


def _inert_metadata(meta: Any) -> dict[str, Any]:
    """A cell's metadata reduced to the grading fields the feedback template shows (``grade_id`` escaped)."""
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    if not isinstance(nbg, dict):
        return {}
    keep: dict[str, Any] = {k: nbg[k] for k in ("grade", "solution", "task", "locked") if isinstance(nbg.get(k), bool)}
    keep |= {
        k: nbg[k] for k in ("points", "score") if isinstance(nbg.get(k), (int, float)) and not isinstance(nbg[k], bool)
    }
    if isinstance(nbg.get("grade_id"), str):
        keep["grade_id"] = html.escape(nbg["grade_id"])
    if isinstance(nbg.get("comment"), str):  # GetGrades wrote it from the gradebook: the grader's words
        keep["comment"] = nbg["comment"]
    return {"nbgrader": keep}
