"""How Lab 1 (``source/lab1-build-basics``) is graded: build the student's ``Dockerfile``, call ``/health``, test.

The student edits the real file ``Dockerfile`` in the lab folder. :func:`verdicts` builds it (context: the
kit's pristine sample app, never a student copy) through :func:`~helpers.grading.labs.common.check_dockerfile`,
runs it under limits, calls ``/health`` and runs ``python -m pytest -q`` inside the running container, then
decides each graded cell: built with the app in it, ``/health`` answers 200, exec-form ``CMD`` that starts the
app, ``EXPOSE 8000``, the tests pass inside, a ``WORKDIR`` and no secret-like ``ENV``. The grader runs it on the
grading engine; the notebook's self-check cells run it on the student's engine. Bad input never raises: it is a
failed :class:`~helpers.grading.verdicts.Verdict`.
"""

from __future__ import annotations

from typing import Any

from helpers.errors import CourseError
from helpers.grading.labs import common
from helpers.grading.labs.common import ImageReport, check_dockerfile
from helpers.grading.verdicts import Verdict
from helpers.images.inspect import secret_like_env
from helpers.review.dockerfile import parse_dockerfile

__all__ = ["LAB1_TAG", "TESTS_ARGV", "GRADE_IDS", "verdicts"]

#: Tag of the image the grader builds (students' own builds use other tags).
LAB1_TAG = "lab1-sample-api:graded"
#: What the grader runs inside the container (what the student types after ``docker exec NAME``).
TESTS_ARGV = ["python", "-m", "pytest", "-q"]
#: The graded cells this module decides (``source/lab1-build-basics/grading.yml``).
GRADE_IDS = (
    "test_image_builds",
    "test_health_answers",
    "test_cmd_exec_form",
    "test_documented_port",
    "test_tests_pass_inside",
    "test_good_habits",
)


def verdicts(sub: Any) -> dict[str, Verdict]:
    """grade_id -> :class:`Verdict` for Lab 1's graded cells, from the submitted ``Dockerfile``."""
    text = sub.text("Dockerfile")
    if not text or not text.strip():
        return _all(False, "No Dockerfile in your lab folder (or it is empty): write it there and save it.")
    try:
        parsed = parse_dockerfile(text)
    except CourseError as e:
        return _all(False, f"Your Dockerfile does not parse: {_short(str(e))}")
    if not parsed.stages:
        return _all(False, "Your Dockerfile has no FROM: keep the first two lines of the starter.")
    copies = any(i.keyword in ("COPY", "ADD") for i in parsed.final.instructions)
    rep = check_dockerfile(text, LAB1_TAG, execs={"tests": TESTS_ARGV}, timeout=common.LAB_TIMEOUT)
    if not rep.built:
        return _all(False, f"The image does not build: {_short(rep.error)}")
    return _decide(rep, copies)


def _decide(rep: ImageReport, copies: bool) -> dict[str, Verdict]:
    """The six verdicts of an image that built (``copies``: its final stage COPYs or ADDs the app)."""
    facts = rep.facts
    health = rep.health_status == 200
    said_health = (
        f"/health answered 200 after {rep.seconds_to_ready:.1f} s."
        if health
        else f"/health did not answer 200: {_short(rep.run_error) or f'status {rep.health_status}'}"
    )
    code, output = rep.exec_results.get("tests", (None, ""))
    secrets = secret_like_env(facts) if facts else []
    workdir = facts.workdir if facts else ""
    return {
        "test_image_builds": Verdict(copies, "It builds and copies the app." if copies else _NO_APP),
        "test_health_answers": Verdict(health, said_health),
        "test_cmd_exec_form": _exec_form(rep, health),
        "test_documented_port": _port(rep, health),
        "test_tests_pass_inside": Verdict(
            code == 0,
            "`python -m pytest -q` passed inside the container."
            if code == 0
            else f"`python -m pytest -q` inside the container: {_tests_failed(rep, code, output)}",
        ),
        "test_good_habits": Verdict(
            copies and workdir not in ("", "/") and not secrets,
            "WORKDIR set, no secret in ENV."
            if copies and workdir not in ("", "/") and not secrets
            else _habits(copies, workdir, secrets),
        ),
    }


_NO_APP = "It builds, but no COPY or ADD puts the app into the image."


def _exec_form(rep: ImageReport, health: bool) -> Verdict:
    """CMD/ENTRYPOINT in exec form, and it is what starts the app (``/health`` answers)."""
    cmd = rep.facts.command if rep.facts else []
    if not (rep.facts and rep.facts.exec_form):
        return Verdict(False, f"The image runs {cmd}: shell form (/bin/sh -c). Write CMD as a JSON list.")
    if not health:
        return Verdict(False, f"The image runs {cmd} (exec form), but that does not start the app.")
    return Verdict(True, f"The image runs {cmd} (exec form).")


def _port(rep: ImageReport, health: bool) -> Verdict:
    """``EXPOSE 8000`` documented, and the app answers on 8000."""
    exposed = rep.facts.exposed_ports if rep.facts else []
    if "8000/tcp" not in exposed:
        return Verdict(False, f"EXPOSE 8000 is missing (the image exposes {exposed or 'nothing'}).")
    if not health:
        return Verdict(False, "EXPOSE 8000 is there, but the app does not answer on port 8000.")
    return Verdict(True, "Port 8000 is exposed and the app answers there.")


def _tests_failed(rep: ImageReport, code: int | None, output: str) -> str:
    """Why the tests did not pass: the container never ran, or pytest's exit code and last lines."""
    if code is None:
        return f"not run, the container did not answer ({_short(rep.run_error)})."
    return f"exit {code}: {_short(output, 400)}"


def _habits(copies: bool, workdir: str, secrets: list[str]) -> str:
    """What the good-habits check missed."""
    missed = [] if copies else ["copy the app into the image"]
    missed += [] if workdir not in ("", "/") else ["set a WORKDIR instead of working in /"]
    missed += [f"no secrets in ENV ({', '.join(secrets)})"] if secrets else []
    return "Missing: " + "; ".join(missed) + "."


def _all(passed: bool, said: str) -> dict[str, Verdict]:
    """The same verdict for every graded cell (nothing to build)."""
    return {g: Verdict(passed, said) for g in GRADE_IDS}


def _short(text: str, limit: int = 300) -> str:
    """The last ``limit`` characters of ``text`` on one line (what the student needs to see)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else "..." + flat[-limit:]
