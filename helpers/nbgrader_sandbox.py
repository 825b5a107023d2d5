"""The nbgrader side of the sandbox: an ``Execute`` preprocessor whose kernel runs in a container.

Not imported by ``helpers/__init__`` (it imports nbgrader). ``python -m helpers course autograde``
configures nbgrader with ``--Autograde.autograde_preprocessors`` so that this class replaces
nbgrader's own ``Execute``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Unicode

from .grading import engine_facts, load_spec
from .paths import course_root
from .sandbox import run_in_sandbox

__all__ = ["SandboxExecute", "ClearHiddenTracebacks"]


class SandboxExecute(Execute):
    """Like nbgrader's ``Execute``, but the student's notebook runs in the grading sandbox.

    Reads the lab's ``source/<assignment>/grading.yml`` (limits, engine work), asks the trusted
    side for engine facts when the lab declares any, runs the notebook in the sandbox, and
    returns the trusted notebook with the sandbox's outputs. Never runs student code here.
    """

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        path = Path(resources.get("metadata", {}).get("path") or ".")
        assignment = resources.get("nbgrader", {}).get("assignment") or path.name
        student = resources.get("nbgrader", {}).get("student") or path.parent.name
        spec = load_spec(assignment, root=course_root())
        # The student's own files (nbgrader overwrote autograded/ with the source versions)
        submitted = course_root() / "submitted" / student / assignment
        facts = engine_facts(spec, submitted) if spec.engine else None
        if facts is not None:  # kept on the trusted side for the instructor to audit
            (path / "grading_facts.json").write_text(json.dumps(facts, indent=1, default=str))
        result = run_in_sandbox(nb, path, spec.limits, facts)
        if result.error:
            self.log.warning("Sandbox: %s", result.error)
        self.log.info("Sandbox ran the notebook in %.1f s", result.seconds)
        return result.notebook, resources


class ClearHiddenTracebacks(NbGraderPreprocessor):
    """Feedback preprocessor: a failing hidden test must not show its code in the traceback.

    nbgrader's ``ClearHiddenTests`` removes hidden tests from the cell's source, but the error
    output still quotes the failing line (and the assert's message). In cells that hold hidden
    tests, this keeps only the error's name. Put it before ``ClearHiddenTests``.
    """

    begin = Unicode("### BEGIN HIDDEN TESTS").tag(config=True)

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        if cell.cell_type == "code" and self.begin in cell.source:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["evalue"] = "a test failed (details of hidden tests are not shown)"
                    out["traceback"] = [f"{out.get('ename', 'Error')}: {out['evalue']}"]
        return cell, resources
