"""The trusted side of Labs 1 and 2: build a student's Dockerfile, run it, report facts.

Student code only hands over text (a Dockerfile, a ``.dockerignore``); these functions do the
engine work (build through :func:`helpers.images.build.build`, run under :data:`helpers.images.run.SANDBOX_LIMITS`)
and return plain facts the test cells assert on. Results are cached per Dockerfile text, so
several test cells cost one build.

The functions the graded cells call are trusted queries (:mod:`helpers.grading.queries`): in the grading
sandbox they are answered by the grader, which runs them here with tags unique to the submission.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.client import LABEL, engine_available, get_client, kit_labels
from helpers.errors import CourseError, EngineUnavailable
from helpers.grading.queries import replaying, trusted_query
from helpers.grading.session import current_session
from helpers.images.build import build
from helpers.images.inspect import ImageFacts, inspect_image
from helpers.images.run import run_container
from helpers.kit.sampleapp import app_dir, copy_app, reference_dockerfile, touch_source

__all__ = [
    "ImageReport",
    "check_dockerfile",
    "instructions",
    "grading_engine",
    "rebuild_after_source_change",
    "context_leaks",
    "remove_report_images",
    "grading",
    "lab1_report",
    "lab2_report",
    "run_in_image",
    "reference_size",
    "dependency_steps_cached",
    "static_checks",
    "graded_in_sandbox",
    "LAB1_TAG",
    "LAB2_TAG",
    "LAB_TIMEOUT",
    "SIZE_MARGIN",
]

#: Tags of the images the graders build (students' own builds use other tags).
LAB1_TAG = "lab1-sample-api:graded"
LAB2_TAG = "lab2-sample-api:graded"
REFERENCE_TAG = "lab1-sample-api:reference"
#: Seconds the app may take to answer ``GET /health`` (and to turn healthy) when graded.
LAB_TIMEOUT = 60
#: Lab 2: the improved image must be at most this fraction of the Lab 1 reference image.
SIZE_MARGIN = 0.5

_CACHE: dict[str, ImageReport] = {}


@dataclass
class ImageReport:
    """What building and running a Dockerfile showed (``built`` False: see ``error``)."""

    tag: str
    built: bool = False
    error: str = ""
    build_seconds: float = 0.0
    facts: ImageFacts | None = None
    health_status: int = 0
    health_body: str = ""
    seconds_to_ready: float = 0.0
    healthy: str = "none"
    run_error: str = ""
    exec_results: dict[str, tuple[int, str]] = field(default_factory=dict)


def grading() -> bool:
    """True while nbgrader executes the notebook (autograde or validate): skip ungraded measurements."""
    return os.environ.get("NBGRADER_EXECUTION") in {"autograde", "validate"}


def graded_in_sandbox() -> bool:
    """True in the grading sandbox: engine checks are trusted queries the grader answers."""
    return replaying()


def grading_engine() -> bool:
    """True when an engine answers (or the grader answers for it); while autograding, none is an error.

    Raises:
        EngineUnavailable: No engine during ``nbgrader autograde`` (checks must never pass vacuously).
    """
    if replaying() or engine_available():
        return True
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        raise EngineUnavailable("grading needs the engine")
    return False


def instructions(dockerfile_text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuations joined, comments dropped."""
    out: list[tuple[str, str]] = []
    joined = re.sub(
        r"\\\n", " ", "\n".join(ln for ln in dockerfile_text.splitlines() if not ln.lstrip().startswith("#"))
    )
    for line in joined.splitlines():
        parts = line.strip().split(None, 1)
        if parts:
            out.append((parts[0].upper(), parts[1].strip() if len(parts) > 1 else ""))
    return out


def check_dockerfile(
    dockerfile_text: str,
    tag: str,
    dockerignore_text: str | None = None,
    context: str | Path | None = None,
    execs: dict[str, list[str]] | None = None,
    wait_healthy: bool = False,
    timeout: float = 60,
    on_line: Callable[[str], None] | None = None,
    client: Any = None,
) -> ImageReport:
    """Build a Dockerfile for the sample app, run it under limits, and collect facts.

    Args:
        dockerfile_text: The Dockerfile.
        tag: Tag for the image.
        dockerignore_text: A ``.dockerignore`` for the context.
        context: The app folder (default: the sample app).
        execs: Commands to run inside the running container: name -> argv.
        wait_healthy: Also wait for the HEALTHCHECK to report healthy.
        timeout: Seconds to wait for ``GET /health`` (and health).
        on_line: Build log callback.
        client: docker-py client (connects lazily).

    Returns:
        An :class:`ImageReport` (errors are recorded in it, never raised).
    """
    key = hashlib.sha256(repr((dockerfile_text, tag, dockerignore_text, str(context), execs, wait_healthy)).encode())
    if key.hexdigest() in _CACHE:
        return _CACHE[key.hexdigest()]
    rep = ImageReport(tag)
    c = get_client(client)
    real = _real_tag(tag)
    try:
        res = build(
            context or app_dir(),
            dockerfile_text=dockerfile_text,
            dockerignore_text=dockerignore_text,
            tags=[real],
            on_line=on_line,
            client=c,
            timeout=_build_timeout(),
        )
        rep.built, rep.build_seconds = True, res.seconds
        rep.facts = inspect_image(real, c)
        rep.facts.ref = tag
    except CourseError as e:
        rep.error = str(e)
        _CACHE[key.hexdigest()] = rep
        return rep
    start = time.monotonic()
    try:
        wait = wait_healthy and bool(rep.facts.healthcheck)  # no HEALTHCHECK: its own check fails, not the rest
        with run_container(real, ports=[8000], wait_healthy=wait, timeout=timeout, sandbox=True, client=c) as app:
            rep.seconds_to_ready = time.monotonic() - start
            answer = app.get("/health")
            rep.health_status, rep.health_body = answer.status, answer.body
            rep.healthy = app.health()
            for name, argv in (execs or {}).items():
                r = app.exec(argv)
                rep.exec_results[name] = (r.exit_code, r.output[-3000:])
    except CourseError as e:
        rep.run_error = str(e)
    _CACHE[key.hexdigest()] = rep
    return rep


def _real_tag(tag: str) -> str:
    """On the grader, a tag unique to the submission (removed with its session); else ``tag``."""
    session = current_session()
    return session.tag(tag) if session else tag


def _build_timeout() -> int:
    session = current_session()
    return session.build_timeout if session else 1800


def rebuild_after_source_change(
    dockerfile_text: str, tag: str, dockerignore_text: str | None = None, client: Any = None
) -> tuple[Any, Any]:
    """Build on a copy of the app, change one source line, build again.

    Returns:
        The two :class:`~helpers.images.build.BuildResult` (first build, rebuild).
    """
    tag = _real_tag(tag)
    with tempfile.TemporaryDirectory(prefix="course-lab-") as tmp:
        app = copy_app(Path(tmp) / "app")
        first = build(
            app,
            dockerfile_text=dockerfile_text,
            dockerignore_text=dockerignore_text,
            tags=[tag],
            client=client,
            timeout=_build_timeout(),
        )
        touch_source(app, f"source change {time.time()}")
        second = build(
            app,
            dockerfile_text=dockerfile_text,
            dockerignore_text=dockerignore_text,
            tags=[tag],
            client=client,
            timeout=_build_timeout(),
        )
    return first, second


_PROBE = "FROM scratch\nCOPY . /ctx/\n"


@trusted_query("context_leaks", arity=1)
def context_leaks(
    dockerignore_text: str, probes: tuple[str, ...] = (".git", ".venv", "tests"), client: Any = None
) -> list[str]:
    """Which of ``probes`` still reach the build context with this ``.dockerignore`` (measured).

    A copy of the app gets a ``.git`` and a ``.venv`` folder with a file in each; the engine
    builds ``COPY . /ctx/`` from it and the files that arrived are listed.
    """
    import io
    import tarfile

    c = get_client(client)
    with tempfile.TemporaryDirectory(prefix="course-ctx-") as tmp:
        app = copy_app(Path(tmp) / "app")
        for folder in (".git", ".venv"):
            (app / folder).mkdir(exist_ok=True)
            (app / folder / "probe.txt").write_text("should not be in the image\n")
        tag = _real_tag(f"course-context-probe:{hashlib.sha256(dockerignore_text.encode()).hexdigest()[:12]}")
        build(
            app,
            dockerfile_text=_PROBE,
            dockerignore_text=dockerignore_text,
            tags=[tag],
            client=c,
            timeout=_build_timeout(),
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


def remove_report_images(*tags: str, client: Any = None) -> None:
    """Remove images the checks built (by tag; only kit-labelled ones) and forget the cache."""
    from docker.errors import APIError, NotFound

    c = get_client(client)
    for tag in tags:
        try:
            if LABEL in (c.images.get(tag).labels or {}):
                c.images.remove(tag, force=True)
        except (NotFound, APIError):
            pass
    for k in [k for k, v in _CACHE.items() if v.tag in tags]:
        del _CACHE[k]


@trusted_query("lab1_report", arity=1)
def lab1_report(dockerfile_text: str, on_line: Callable[[str], None] | None = None) -> ImageReport:
    """Lab 1: build the student's Dockerfile (full base) and call ``/health`` (cached)."""
    return check_dockerfile(dockerfile_text, LAB1_TAG, timeout=LAB_TIMEOUT, on_line=on_line)


@trusted_query("lab2_report", arity=2)
def lab2_report(
    dockerfile_text: str, dockerignore_text: str, on_line: Callable[[str], None] | None = None
) -> ImageReport:
    """Lab 2: build with the student's ``.dockerignore``, wait for health, look inside (cached).

    ``exec_results`` holds "uid" (``id -u``), "gcc" (``command -v gcc``) and "psycopg2"
    (``python -c "import psycopg2"``: libpq5 present at run time).
    """
    execs = {
        "uid": ["id", "-u"],
        "gcc": ["sh", "-c", "command -v gcc || command -v cc"],
        "psycopg2": ["python", "-c", "import psycopg2; print(psycopg2.__libpq_version__)"],
    }
    return check_dockerfile(
        dockerfile_text,
        LAB2_TAG,
        dockerignore_text=dockerignore_text,
        execs=execs,
        wait_healthy=True,
        timeout=LAB_TIMEOUT,
        on_line=on_line,
    )


@trusted_query("run_in_image", arity=2)
def run_in_image(tag: str, argv: list[str], timeout: float = LAB_TIMEOUT, client: Any = None) -> tuple[int, str]:
    """Start ``tag`` under limits, wait for ``/health``, run ``argv`` inside: (exit code, output tail).

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


@trusted_query("reference_size", arity=0)
def reference_size(client: Any = None) -> int:
    """Size in bytes of the Lab 1 reference image (built from the reference Dockerfile, cached)."""

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
    _, second = rebuild_after_source_change(dockerfile_text, LAB2_TAG + "-rebuild", dockerignore_text, client)
    return {
        s.instruction: s.cached
        for s in second.steps
        if re.search(r"\bpip\b|requirements", s.instruction) and not s.instruction.startswith("FROM")
    }


def static_checks(dockerfile_text: str) -> Any:
    """The lab checklist read from the Dockerfile text alone (no engine): a DataFrame check -> ok.

    A quick review while writing; the graded checks build and run the image instead.
    """
    import pandas as pd

    ins = instructions(dockerfile_text)
    final = ins[max((i for i, (k, _) in enumerate(ins) if k == "FROM"), default=0) :]
    keys = [k for k, _ in final]
    runs = [(i, a) for i, (k, a) in enumerate(final) if k == "RUN"]
    copies = [(i, a) for i, (k, a) in enumerate(ins) if k == "COPY" and "--from" not in a]
    pip = [i for i, (k, a) in enumerate(ins) if k == "RUN" and re.search(r"\bpip3?\b.*\binstall\b", a)]
    src = [i for i, a in copies if re.match(r"(\S+\s+)*(\.|app/?)\s+\S+$", a)]
    users = [a for k, a in final if k == "USER"]
    last_cmd = next((a for k, a in reversed(final) if k in ("CMD", "ENTRYPOINT")), "")
    checks = {
        "multi-stage build (2+ FROM)": sum(k == "FROM" for k, _ in ins) >= 2,
        "final stage has a non-root USER": bool(users) and users[-1].split(":")[0] not in ("root", "0"),
        "HEALTHCHECK": "HEALTHCHECK" in keys,
        "EXPOSE 8000": any(k == "EXPOSE" and "8000" in a for k, a in final),
        "CMD/ENTRYPOINT in exec form": last_cmd.startswith("["),
        "WORKDIR set": any(k == "WORKDIR" for k, _ in ins),
        "dependencies installed before the source is copied": bool(pip) and (not src or max(pip) < min(src)),
        "no pip cache in the image (--no-cache-dir or a cache mount)": bool(pip)
        and all("--no-cache-dir" in ins[i][1] or "type=cache" in ins[i][1] for i in pip),
        "apt lists removed after apt-get install": all(
            "rm -rf /var/lib/apt/lists" in a for _, a in runs if "apt-get install" in a
        ),
    }
    return pd.DataFrame({"check": list(checks), "ok": list(checks.values())}).set_index("check")
