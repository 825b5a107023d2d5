"""How Lab 1 (``source/lab1-build-basics``) is graded: build the student's Dockerfile, call ``/health``, run the tests.

The graded cells hand over the Dockerfile text; :func:`lab1_report` builds and runs it once (cached) and
the cells assert on the report (built, ``/health`` answers 200, exec-form CMD, port 8000, a WORKDIR, no
secret-like ENV). :func:`run_in_image` runs the app's unit tests inside the built image. Both are trusted
queries (``source/lab1-build-basics/grading.yml``): in the grading sandbox the grader answers them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers.grading.labs import common
from helpers.grading.labs.common import ImageReport, check_dockerfile
from helpers.grading.queries import trusted_query
from helpers.grading.session import current_session
from helpers.images.run import run_container

__all__ = ["LAB1_TAG", "lab1_report", "run_in_image"]

#: Tag of the image the grader builds (students' own builds use other tags).
LAB1_TAG = "lab1-sample-api:graded"


@trusted_query("lab1_report", arity=1)
def lab1_report(dockerfile_text: str, on_line: Callable[[str], None] | None = None) -> ImageReport:
    """Build the student's Dockerfile (full base) and call ``/health`` (cached)."""
    return check_dockerfile(dockerfile_text, LAB1_TAG, timeout=common.LAB_TIMEOUT, on_line=on_line)


@trusted_query("run_in_image", arity=2)
def run_in_image(tag: str, argv: list[str], timeout: float = common.LAB_TIMEOUT, client: Any = None) -> tuple[int, str]:
    """Start ``tag`` under limits, wait for ``/health``, run ``argv`` inside: (exit code, output tail).

    Args:
        tag: The image (on the grader: one this submission's checks built).
        argv: The command to run in the container.
        timeout: Seconds to wait for ``/health``.
        client: docker-py client (connects lazily).

    Raises:
        CourseError: The container did not start or answer (the message carries its log).
        GradingRefused: On the grader, ``tag`` is not an image this submission's checks built.
    """
    session = current_session()
    if session is not None:
        tag = session.owns(tag)
        argv = [str(a) for a in argv]
    with run_container(tag, ports=[8000], timeout=timeout, sandbox=True, client=client) as app:
        r = app.exec(argv)
    return r.exit_code, r.output[-3000:]
