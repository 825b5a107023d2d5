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

from helpers.grading.engine_env import current_grading_engine, using_grading_engine
from helpers.grading.facts import GradingSpec, engine_facts, load_spec
from helpers.grading.queries import parse_requests
from helpers.grading.sandbox import SandboxResult, run_in_sandbox
from helpers.grading.session import TrustedSession
from helpers.paths import course_root

__all__ = ["SandboxExecute", "ClearHiddenTracebacks"]


class SandboxExecute(Execute):
    """Like nbgrader's ``Execute``, but the student's notebook runs in the grading sandbox.

    Reads the lab's ``source/<assignment>/grading.yml`` (limits, engine work, trusted queries),
    asks the trusted side for engine facts when the lab declares any, runs the notebook in the
    sandbox, and returns the trusted notebook with the sandbox's outputs. For labs with trusted
    queries the notebook runs in rounds: the requests of one round (data, checked) are answered
    here with the engine and given to the next. Never runs student code here.
    """

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        path = Path(resources.get("metadata", {}).get("path") or ".")
        assignment = resources.get("nbgrader", {}).get("assignment") or path.name
        student = resources.get("nbgrader", {}).get("student") or path.parent.name
        spec = load_spec(assignment, root=course_root())
        # The student's own files (nbgrader overwrote autograded/ with the source versions)
        submitted = course_root() / "submitted" / student / assignment
        with using_grading_engine():  # the grading engine, when autograde started one
            facts = engine_facts(spec, submitted) if spec.engine else None
        if spec.queries:
            facts = dict(facts or {"version": 1, "assignment": assignment, "steps": {}})
            result = self._rounds(nb, path, spec, facts)
        else:
            result = _unanswered(run_in_sandbox(nb, path, spec.limits, facts))
        if facts is not None:  # kept on the trusted side for the instructor to audit
            grading = current_grading_engine()
            facts["engine"] = grading.docker_host if grading else "the lab engine (no separate grading engine)"
            (path / "grading_facts.json").write_text(json.dumps(facts, indent=1, default=str))
        if result.error:
            self.log.warning("Sandbox: %s", result.error)
        self.log.info("Sandbox ran the notebook in %.1f s", result.seconds)
        return result.notebook, resources

    def _rounds(self, nb: Any, path: Path, spec: GradingSpec, facts: dict[str, Any]) -> SandboxResult:
        """Run the notebook until no new trusted query is asked for (at most ``spec.rounds`` times)."""
        session = TrustedSession(spec.queries, build_timeout=spec.build_timeout)
        facts["rounds"] = []
        try:
            session.run([(name, []) for name in spec.prefetch])  # answers every submission needs
            for n in range(1, spec.rounds + 1):
                facts.update(queries=session.answers, final=n == spec.rounds)
                result = run_in_sandbox(nb, path, spec.limits, facts)
                accepted, refused = parse_requests(result.requests) if result.requests else ([], [])
                for msg in refused:
                    self.log.warning("Refused trusted query: %s", msg)
                session.refuse(refused)
                ran = 0 if (n == spec.rounds or result.error) else session.run(accepted)
                facts["rounds"].append(
                    {
                        "round": n,
                        "seconds": round(result.seconds, 1),
                        "requests": len(accepted),
                        "refused": len(refused),
                        "answered": ran,
                    }
                )
                if not ran:
                    return _unanswered(result)
            return _unanswered(result)
        finally:
            session.close()
            facts["query_log"] = session.log
            facts["queries"] = dict(session.answers)


def _unanswered(result: SandboxResult) -> SandboxResult:
    """Cells still waiting for a query when the rounds stop: say so (the answer will not come)."""
    for cell in result.notebook.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error" and out.get("ename") == "GradingPending":
                out["evalue"] = (
                    "the grader did not answer this check (the request was refused, or checks kept "
                    "asking for more after the last round)"
                )
                out["traceback"] = [f"GradingPending: {out['evalue']}"]
    return result


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
