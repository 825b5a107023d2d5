"""How Lab 2 (``source/lab2-improve-dockerfile``) is graded: the improved image, measured on the engine.

The graded cells hand over the Dockerfile and ``.dockerignore`` texts. :func:`lab2_report` builds, waits
for health and looks inside (non-root uid, no compiler, libpq present); :func:`reference_size` is the
Lab 1 reference the image must be at most :data:`SIZE_MARGIN` of; :func:`dependency_steps_cached` rebuilds
after a source change; :func:`context_leaks` measures what the ``.dockerignore`` lets through. All are
trusted queries (``source/lab2-improve-dockerfile/grading.yml``): in the grading sandbox the grader answers them.
The multi-stage hidden check reads the Dockerfile with :func:`helpers.review.dockerfile.parse_dockerfile`.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client, kit_labels
from helpers.errors import CourseError
from helpers.grading.labs import common
from helpers.grading.labs.common import ImageReport, build_timeout, check_dockerfile, submission_tag
from helpers.grading.queries import trusted_query
from helpers.images.build import build
from helpers.kit.sampleapp import copy_app, reference_dockerfile

__all__ = ["LAB2_TAG", "SIZE_MARGIN", "lab2_report", "reference_size", "dependency_steps_cached", "context_leaks"]

#: Tag of the image the grader builds (students' own builds use other tags).
LAB2_TAG = "lab2-sample-api:graded"
REFERENCE_TAG = "lab1-sample-api:reference"
#: The improved image must be at most this fraction of the Lab 1 reference image.
SIZE_MARGIN = 0.5
#: Commands run in the improved container: its uid, a compiler left behind, libpq at run time.
EXECS = {
    "uid": ["id", "-u"],
    "gcc": ["sh", "-c", "command -v gcc || command -v cc"],
    "psycopg2": ["python", "-c", "import psycopg2; print(psycopg2.__libpq_version__)"],
}
_PROBE = "FROM scratch\nCOPY . /ctx/\n"


@trusted_query("lab2_report", arity=2)
def lab2_report(
    dockerfile_text: str, dockerignore_text: str, on_line: Callable[[str], None] | None = None
) -> ImageReport:
    """Build with the student's ``.dockerignore``, wait for health, look inside (cached).

    ``exec_results`` holds "uid" (``id -u``), "gcc" (``command -v gcc``) and "psycopg2"
    (``python -c "import psycopg2"``: libpq5 present at run time).
    """
    return check_dockerfile(
        dockerfile_text,
        LAB2_TAG,
        dockerignore_text=dockerignore_text,
        execs=EXECS,
        wait_healthy=True,
        timeout=common.LAB_TIMEOUT,
        on_line=on_line,
    )


@trusted_query("reference_size", arity=0)
def reference_size(client: Any = None) -> int:
    """Size in bytes of the Lab 1 reference image (built from the reference Dockerfile, cached).

    Raises:
        CourseError: The reference does not build (the kit is broken, not the submission).
    """
    rep = check_dockerfile(reference_dockerfile("naive"), REFERENCE_TAG, client=client)
    if not rep.built or rep.facts is None:
        raise CourseError(f"The Lab 1 reference image did not build: {rep.error}", "Run `make test` to check the kit.")
    return rep.facts.size


@trusted_query("dependency_steps_cached", arity=2)
def dependency_steps_cached(
    dockerfile_text: str, dockerignore_text: str | None = None, client: Any = None
) -> dict[str, bool]:
    """After a one-line source change, which dependency steps (pip / requirements) came from cache.

    Returns:
        instruction -> cached, for every step that mentions ``pip`` or ``requirements``
        (empty when there is none).
    """
    _, second = common.rebuild_after_source_change(dockerfile_text, LAB2_TAG + "-rebuild", dockerignore_text, client)
    return {
        s.instruction: s.cached
        for s in second.steps
        if re.search(r"\bpip\b|requirements", s.instruction) and not s.instruction.startswith("FROM")
    }


@trusted_query("context_leaks", arity=1)
def context_leaks(
    dockerignore_text: str, probes: tuple[str, ...] = (".git", ".venv", "tests"), client: Any = None
) -> list[str]:
    """Which of ``probes`` still reach the build context with this ``.dockerignore`` (measured).

    A copy of the app gets a ``.git`` and a ``.venv`` folder with a file in each; the engine
    builds ``COPY . /ctx/`` from it and the files that arrived are listed.
    """
    c = get_client(client)
    tag = submission_tag(f"course-context-probe:{hashlib.sha256(dockerignore_text.encode()).hexdigest()[:12]}")
    with tempfile.TemporaryDirectory(prefix="course-ctx-") as tmp:
        app = copy_app(Path(tmp) / "app")
        for folder in (".git", ".venv"):
            (app / folder).mkdir(exist_ok=True)
            (app / folder / "probe.txt").write_text("should not be in the image\n")
        build(
            app,
            dockerfile_text=_PROBE,
            dockerignore_text=dockerignore_text,
            tags=[tag],
            client=c,
            timeout=build_timeout(),
        )
    ctr = c.containers.create(tag, command=["none"], labels=kit_labels("lab"))
    try:
        stream, _ = ctr.get_archive("/ctx")
        names = tarfile.open(fileobj=io.BytesIO(b"".join(stream))).getnames()
    finally:
        ctr.remove(force=True)
        c.images.remove(tag, force=True)
    present = {n.split("/", 2)[1] for n in names if n.count("/") >= 1}
    return [p for p in probes if p in present]
