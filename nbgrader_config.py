"""nbgrader configuration for the course (the JupyterLab server and every nbgrader command read it)."""

import os
from pathlib import Path

c = get_config()  # noqa: F821  (provided by traitlets when this file is loaded)

HERE = Path(__file__).resolve().parent

c.CourseDirectory.root = str(HERE)
c.CourseDirectory.course_id = os.environ.get("COURSE_ID", "docker-cicd")
# One gradebook for several grading machines (a PostgreSQL server): its URL comes from the environment, never
# from this file (it holds a password). Unset: nbgrader's default, gradebook.db at the course root.
if os.environ.get("COURSE_GRADEBOOK_URL", "").strip():
    c.CourseDirectory.db_url = os.environ["COURSE_GRADEBOOK_URL"].strip()
# The exchange must exist and be world-writable; `python -m helpers course` creates it.
c.Exchange.root = os.environ.get("COURSE_EXCHANGE", str(HERE / ".course" / "exchange"))
c.Exchange.path_includes_course = True
# A hub where every student is the same OS user (Zero to JupyterHub: uid 1000): COURSE_EXCHANGE_PERSONALIZED=1
# puts each submission into inbound/<student>/ and feedback into feedback/<student>/ (helpers/grading/exchange.py),
# so that the hub can mount only those folders into the student's server (docs/INSTRUCTOR.md, JupyterHub). Set it for
# the students and the instructor.
if os.environ.get("COURSE_EXCHANGE_PERSONALIZED", "").strip().lower() in ("1", "true", "yes"):
    c.ExchangeFactory.submit = "helpers.grading.exchange.PersonalInboundSubmit"
    c.ExchangeFactory.collect = "helpers.grading.exchange.PersonalInboundCollect"
    c.ExchangeFactory.list = "helpers.grading.exchange.PersonalInboundList"
    c.ExchangeFactory.release_feedback = "helpers.grading.exchange.PersonalFeedbackRelease"
    c.ExchangeFactory.fetch_feedback = "helpers.grading.exchange.PersonalFeedbackFetch"
# Files of source/<lab>/ that never reach students: grading.yml holds the instructor's settings
# (limits, the cells the grader decides, graded thresholds); the rest is nbgrader's default list.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "grading.yml"]
# Feedback students receive: no hidden test (not in sources, not quoted by outputs), nothing that runs
# in their browser, and a student's own marker text never fails everyone's feedback. The same list as
# helpers.grading.feedback.FEEDBACK_PREPROCESSORS (a test checks it), so that feedback generated from the
# formgrader is as safe; `make feedback` also copies no other file of autograded/ (grading_verdicts.json).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "helpers.grading.nbgrader_sandbox.ClearHiddenTracebacks",
    "helpers.grading.nbgrader_sandbox.ClearHiddenTestsSafely",
    "helpers.grading.nbgrader_sandbox.InertFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# Engine labs build and run images: give each cell time, but not forever.
c.ExecutePreprocessor.timeout = 600
# A test cell the student deleted is added back for grading (nbgrader cannot do that for other read-only
# cells: helpers.grading.submissions refuses a submission that deleted one).
c.OverwriteCells.add_missing_cells = True


def _answer_files(root: Path) -> dict[str, list[str]]:
    """Lab -> the files its student writes (``answers:`` in ``source/<lab>/grading.yml``)."""
    import yaml

    out = {}
    for spec in sorted((root / "source").glob("*/grading.yml")):
        answers = (yaml.safe_load(spec.read_text()) or {}).get("answers") or []
        if answers:
            out[spec.parent.name] = [str(a) for a in answers]
    return out


# The files a student writes (a Dockerfile, a script, a workflow) are graded as submitted: nbgrader's autograde
# otherwise copies every non-notebook file of source/<lab>/ over the submission (the starters).
c.Autograde.exclude_overwriting = _answer_files(HERE)
# Late work: 10% of a notebook's maximum score off per started day after its due date, never more than the
# notebook's score (helpers/grading/latepenalty.py). Due dates live in the gradebook: `make due A=<lab> DATE=...`.
# No due date, no penalty. Autograde applies it; `make grades` applies it again to the final scores (manual grades).
c.AssignLatePenalties.plugin_class = "helpers.grading.latepenalty.DailyLatePenalty"
c.DailyLatePenalty.percent_per_day = 10.0
c.DailyLatePenalty.grace_minutes = 0.0
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
