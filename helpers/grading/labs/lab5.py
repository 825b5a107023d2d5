"""How Lab 5 (``source/lab5-automate-builds``) is graded: the student's workflow file, read and run by the grader.

The student writes ``.github/workflows/build.yml`` in the lab folder and answers two measured questions in the
notebook (literals). :func:`verdicts` decides every graded cell from those files: the workflow is read within
bounds (:func:`helpers.ci.workflowfile.load_workflow`), checked as a reviewer would
(:mod:`helpers.ci.workflow`, :mod:`helpers.ci.workflowsec`), and the workflow's own steps are replayed
(:mod:`helpers.ci.replayplan` reads them through an allow-list, :mod:`helpers.ci.replayrun` runs them through the
kit under run-scoped names, labels and time limits) as a pull request from a feature branch and as a push to
``main``, on whatever engine the environment points at (the grading engine on the grader, the lab engine when
the student self-checks). The integration-test cell passes only when the student's own test step ran the test
image against the app the student's steps started. Only the sample app is built, with the kit's Dockerfiles or
the student's Lab 2 Dockerfile (``release/lab2-improve-dockerfile/Dockerfile``, for which the grader builds
Lab 2's reference); pushes go to the grader's local registry.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.ci.pipeline import REFERENCE, run_pipeline
from helpers.ci.pipelinereport import PipelineReport
from helpers.ci.replayplan import Build, first_build, read_plan
from helpers.ci.replayrun import ReplayReport, replay
from helpers.ci.workflow import check_workflow
from helpers.ci.workflowfile import load_workflow, workflow_steps
from helpers.ci.workflowsec import (
    build_gated_on_main,
    cleanup_problems,
    gate_problems,
    injection_text,
    injections,
    permission_problems,
    unpinned_actions,
)
from helpers.engine.client import get_client
from helpers.errors import ConfigFileError, CourseError
from helpers.grading.verdicts import GradingRefused, Submission, Verdict
from helpers.kit.sampleapp import STUDENT_FILES, app_dir, sample_dockerfile_path
from helpers.paths import PACKAGE_DIR

__all__ = [
    "LAB5_BRANCHES",
    "WORKFLOW",
    "BROKEN_WORKFLOW",
    "GradedPipeline",
    "graded_pipeline",
    "tests_passed",
    "verdicts",
]

#: The branches a graded Lab 5 pipeline stands for (main pushes to the local registry).
LAB5_BRANCHES = ("feature/lab5", "main")
#: The student's workflow, relative to the lab folder.
WORKFLOW = ".github/workflows/build.yml"
#: The workflow with a YAML error that section 3 of the notebook reads (the ``[`` of line 4 is never closed).
BROKEN_WORKFLOW = "name: ci\non:\n  push:\n    branches: [main\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
#: The line to edit: the one that opens a ``[`` it never closes.
_BROKEN_MISTAKE_LINE = next(n for n, ln in enumerate(BROKEN_WORKFLOW.splitlines(), 1) if "[" in ln and "]" not in ln)
#: The stage where the notebook's failing pipeline (an app whose database does not exist) stops.
FAILING_STAGE = "wait healthy"
_STATIC = ("test_triggers", "test_build_and_tests", "test_push_and_secrets")
_KIT = PACKAGE_DIR.parent
#: What the reference build names: the student's Lab 2 Dockerfile (the grader builds Lab 2's reference for it).
_REFERENCE_DF = _KIT / STUDENT_FILES["optimized"]
_CACHE: dict[Any, Any] = {}


#: A graded run's report: one stage per step of the student's workflow, what it left behind, refusals, tests.
GradedPipeline = ReplayReport


def _inside(path: Path, *folders: Path) -> bool:
    real = path.resolve()
    return any(real == f.resolve() or f.resolve() in real.parents for f in folders)


def _lab2_file(dockerfile: Path) -> Path:
    """The student's Lab 2 Dockerfile is built as Lab 2's reference where the course has it (the grader, the
    course's tests), so that Lab 5 grades the workflow, not Lab 2; in the students' copy it is their own file."""
    if dockerfile.resolve() == (_KIT / STUDENT_FILES["optimized"]).resolve():
        return sample_dockerfile_path("optimized")
    return dockerfile


def _graded_build(spec: Build) -> tuple[Path, Path]:
    """The (Dockerfile, context) a build of the workflow names (as the plan read it), when the grader may build them.

    Raises:
        GradingRefused: A Dockerfile or context outside the sample app and the kit's references.
    """
    dockerfile, context = spec.paths(_KIT)
    dockerfile = _lab2_file(dockerfile)
    app = app_dir()
    if context.resolve() not in (app.resolve(), (_KIT / "sample_python_app").resolve()):
        raise GradingRefused(
            f"The workflow builds {context.name!r}: only sample_python_app is graded.",
            "Build the sample app: `docker build ... sample_python_app`.",
        )
    lab2 = sample_dockerfile_path("optimized").parent
    if not _inside(dockerfile, app, _KIT / "sample_python_app", REFERENCE, lab2) or not dockerfile.is_file():
        raise GradingRefused(
            f"The workflow's Dockerfile {dockerfile.name!r} is not one the grader builds.",
            f"Build your Lab 2 Dockerfile: `docker build -f {STUDENT_FILES['optimized']} ... sample_python_app`.",
        )
    return dockerfile, app


def graded_pipeline(workflow_text: str | None, branch: str, client: Any = None) -> GradedPipeline:
    """Replay the workflow's own steps (:mod:`helpers.ci.replayplan`, :mod:`helpers.ci.replayrun`) as ``branch``.

    ``feature/lab5`` stands for a pull request, ``main`` for a push to main; the commit sha is fresh per run.
    Only the sample app and the kit's reference Dockerfiles are built (a build step naming another path fails).
    ``workflow_text`` None runs the kit's own stages (:func:`helpers.ci.pipeline.run_pipeline`) on the reference
    build. Runs are cached per (workflow text, branch, engine).

    Raises:
        GradingRefused: Another branch.
        CourseError: The workflow has no ``docker build`` step; no engine answers.
    """
    if branch not in LAB5_BRANCHES:
        raise GradingRefused(f"Branch {branch!r} is not one the lab grades.", f"Use one of {LAB5_BRANCHES}.")
    c = get_client(client)
    digest = hashlib.sha256((workflow_text or "").encode()).hexdigest() if workflow_text is not None else None
    key = ("lab5", digest, branch, c.api.base_url)
    if key in _CACHE:
        return _CACHE[key]
    if workflow_text is None:
        pr = run_pipeline(app_dir(), _lab2_file(_REFERENCE_DF), branch=branch, health_timeout=90, client=c)
        left = c.containers.list(all=True, filters={"label": f"org.dockercourse.pipeline={pr.run_id}"})
        report = GradedPipeline(**vars(pr), left_behind=[x.name for x in left], tests_ran=True)
        report.tests_ok = pr.ok
    else:
        sha = hashlib.sha1(uuid.uuid4().bytes).hexdigest()  # a fresh commit per run: two runs never share a tag
        plan = read_plan(load_workflow(workflow_text), branch, sha, text=workflow_text)
        if not plan.refusals:  # a refused plan runs nothing and says why; one without a build step: say so
            first_build(plan)
        report = replay(plan, _graded_build, REFERENCE / "test.Dockerfile", client=c)
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[key] = report
    return report


def tests_passed(report: PipelineReport) -> int:
    """The number in the last ``N passed`` of the report's test log (0 when there is none)."""
    found = re.findall(r"(\d+) passed", report.test_log)
    return int(found[-1]) if found else 0


def _verdict(passed: bool, said: str) -> Verdict:
    return Verdict(passed, said)


def _first(problems: list[str], ok: str) -> Verdict:
    return _verdict(not problems, problems[0] if problems else ok)


def _static(doc: dict[str, Any], text: str) -> dict[str, Verdict]:
    """The verdicts read from the workflow file alone."""
    steps = workflow_steps(doc)
    r = check_workflow(text)
    build = [] if r.check("build").passed else [r.check("build").detail]
    if build_gated_on_main(steps):
        build.append("the build runs on main only: pull requests must build the image too")
    build += [] if r.check("integration tests").passed else [r.check("integration tests").detail]
    if "--network" not in text and not any(isinstance(j, dict) and j.get("services") for j in doc["jobs"].values()):
        build.append("the tests should reach the app over a user-defined network (`--network`)")
    push = [c.detail for c in (r.check("push only on main"), r.check("no secrets printed")) if not c.passed]
    push += gate_problems(doc, steps)
    if r.check("push only on main").passed and "--password-stdin" not in text and "login-action" not in text:
        push.append("log in with `--password-stdin` (or docker/login-action), never `-p`")
    push += permission_problems(doc)
    push += [injection_text(s, e) for s, e in injections(steps)]
    push += [f"`uses: {u}` is not pinned by a full commit SHA" for u in unpinned_actions(doc, steps)]
    return {
        "test_triggers": _first(
            [] if r.check("triggers").passed else [r.check("triggers").detail],
            "triggers: " + r.check("triggers").detail,
        ),
        "test_build_and_tests": _first(build, "builds on pull requests; tests run against the started container"),
        "test_push_and_secrets": _first(push, "pushes a versioned tag from main only; least-privilege token; pinned"),
    }


def _failed(pr: GradedPipeline, branch: str) -> Verdict:
    """The verdict of a run that did not pass: the refused part, or the step that failed and why."""
    failed = next(s for s in pr.stages if not s.ok)
    said = pr.refused[0] if pr.refused else f"failed at {failed.name!r}: {failed.detail}"
    return _verdict(False, f"as {branch}, the replay of your workflow {said}"[:300])


def _feature(text: str) -> Verdict:
    pr = graded_pipeline(text, "feature/lab5")
    if not pr.ok:
        return _failed(pr, "feature/lab5")
    problems = []
    if not pr.tests_ran:
        problems.append("no step ran the integration-test image (built from helpers/data/sample_app/test.Dockerfile)")
    elif not pr.tests_ok or tests_passed(pr) < 3:
        problems.append(f"only {tests_passed(pr)} integration tests passed")
    if pr.pushed:
        problems.append(f"a feature branch pushed {pr.pushed}")
    if pr.left_behind:
        problems.append(f"not torn down: {pr.left_behind}")
    return _first(problems, f"feature/lab5: passed, {tests_passed(pr)} tests, nothing pushed, nothing left behind")


def _main(text: str, doc: dict[str, Any]) -> Verdict:
    cleanup = cleanup_problems(workflow_steps(doc))
    if cleanup:
        return _verdict(False, cleanup[0])
    pr = graded_pipeline(text, "main")
    if not pr.ok:
        return _failed(pr, "main")
    if not (pr.pushed and pr.sha[:7] in pr.pushed.rsplit(":", 1)[-1]):
        return _verdict(False, "as main, no tag made from the commit sha was pushed")
    return _verdict(True, f"as main: pushed {pr.pushed.rsplit('/', 1)[-1]}; logs and tear-down run after a failure")


def _yaml_lines(sub: Submission) -> Verdict:
    try:
        load_workflow(BROKEN_WORKFLOW)
        reported = 0
    except ConfigFileError as e:
        reported = e.line
    said, fix = sub.answer("YAML_ERROR_LINE"), sub.answer("YAML_MISTAKE_LINE")
    if said != reported:
        return _verdict(False, f"YAML_ERROR_LINE = {said!r}: not the line the parser reports")
    if fix != _BROKEN_MISTAKE_LINE:
        return _verdict(False, f"YAML_MISTAKE_LINE = {fix!r}: not the line to edit (where does the `[` open?)")
    return _verdict(True, "both lines right: the parser reports the line after the mistake")


def _reading(sub: Submission, text: str | None) -> Verdict:
    stage, count = sub.answer("FAILED_STAGE"), sub.answer("TESTS_PASSED")
    if stage != FAILING_STAGE:
        return _verdict(False, f"FAILED_STAGE = {stage!r}: not the stage where the failing pipeline stopped")
    try:
        pr = graded_pipeline(text, "feature/lab5")
    except CourseError:
        pr = None
    if pr is None or not pr.ok:
        pr = graded_pipeline(None, "feature/lab5")  # the student's build does not run: the kit's reference does
    if count != tests_passed(pr):
        return _verdict(False, f"TESTS_PASSED = {count!r}: not what the pipeline's test log says")
    return _verdict(True, f"FAILED_STAGE and TESTS_PASSED ({count}) match the reports")


def _guarded(fn: Callable[[], Any]) -> Any:
    """One verdict; a kit error (or anything a student's file provokes) is a failed verdict, never raised."""
    try:
        return fn()
    except CourseError as e:
        return _verdict(False, e.message.splitlines()[0][:300])
    except Exception as e:  # noqa: BLE001 - the grader must go on with the other cells and students
        return _verdict(False, f"could not check ({type(e).__name__}: {str(e)[:200]})")


def verdicts(sub: Submission) -> dict[str, Verdict]:
    """grade_id -> verdict for every graded cell of Lab 5, from the submitted workflow and answers.

    Never raises for a student's input: an unreadable workflow or a failed run is a failed verdict.
    """
    text = sub.text(WORKFLOW)
    out = {
        "test_yaml_error_line": _guarded(lambda: _yaml_lines(sub)),
        "test_summarize": _guarded(lambda: _reading(sub, text)),
    }
    try:
        if text is None:
            raise ConfigFileError(WORKFLOW, "is missing", hint="Write the workflow in the lab folder.")
        doc = load_workflow(text)
    except CourseError as e:
        why = _verdict(False, f"{WORKFLOW}: {e.message.splitlines()[0]}"[:300])
        return {**out, **dict.fromkeys((*_STATIC, "test_pipeline_feature", "test_pipeline_main_and_failure"), why)}
    static = _guarded(lambda: _static(doc, text))
    out.update(static if isinstance(static, dict) else dict.fromkeys(_STATIC, static))
    out["test_pipeline_feature"] = _guarded(lambda: _feature(text))
    out["test_pipeline_main_and_failure"] = _guarded(lambda: _main(text, doc))
    return out
