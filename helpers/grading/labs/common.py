"""What the graded labs share: build and run a student's Dockerfile, tags and time limits on the grader, the checklist.

The labs' checks read text (a Dockerfile, a ``.dockerignore``); :func:`check_dockerfile` does the engine work
(build through :func:`helpers.images.build.build`, run under :data:`helpers.images.run.SANDBOX_LIMITS`) and
returns plain facts the verdicts are decided on. Results are cached per Dockerfile text, so several checks
cost one build. On the grader (a :class:`~helpers.grading.session.GradingSession`), every tag is made unique
to the submission (:func:`submission_tag`) and removed with its session.

The lab modules (:mod:`helpers.grading.labs.lab1` ... ``lab5``, ``shrink``) build their ``verdicts()`` on these.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client
from helpers.errors import CourseError
from helpers.grading.buildpolicy import check_fetches
from helpers.grading.limits import explain_failure
from helpers.grading.session import current_session
from helpers.images.build import build
from helpers.images.buildmodel import BuildResult
from helpers.images.inspect import ImageFacts, inspect_image
from helpers.images.run import SANDBOX_LIMITS, run_container
from helpers.kit.sampleapp import app_dir, copy_app, touch_source
from helpers.review.dockerfile import Dockerfile, Instruction, parse_dockerfile

__all__ = [
    "ImageReport",
    "check_dockerfile",
    "rebuild_after_source_change",
    "submission_tag",
    "build_timeout",
    "static_checks",
    "LAB_TIMEOUT",
]

#: Seconds the app may take to answer ``GET /health`` (and to turn healthy) when graded.
LAB_TIMEOUT = 60

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


def submission_tag(tag: str) -> str:
    """On the grader, a tag unique to the submission (removed with its session); else ``tag``."""
    session = current_session()
    return session.tag(tag) if session else tag


def build_timeout() -> int:
    """Seconds one build may take: the lab's ``build_timeout`` on the grader, half an hour elsewhere."""
    session = current_session()
    return session.build_timeout if session else 1800


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
    key = hashlib.sha256(
        repr((dockerfile_text, tag, dockerignore_text, str(context), execs, wait_healthy)).encode()
    ).hexdigest()
    if key not in _CACHE:
        rep = ImageReport(tag)
        c = get_client(client)
        real = submission_tag(tag)
        if _build_into(rep, real, dockerfile_text, dockerignore_text, context, on_line, c):
            _run_into(rep, real, execs or {}, wait_healthy, timeout, c)
        _CACHE[key] = rep
    return _CACHE[key]


def _build_into(
    rep: ImageReport,
    real: str,
    dockerfile_text: str,
    dockerignore_text: str | None,
    context: str | Path | None,
    on_line: Callable[[str], None] | None,
    client: Any,
) -> bool:
    """Build ``real`` and record the build's outcome and the image's facts in ``rep``; True when it built."""
    try:
        check_fetches(dockerfile_text)  # dockerd's own fetches happen outside the grading firewall
        res = build(
            context or app_dir(),
            dockerfile_text=dockerfile_text,
            dockerignore_text=dockerignore_text,
            tags=[real],
            on_line=on_line,
            client=client,
            timeout=build_timeout(),
        )
        rep.built, rep.build_seconds = True, res.seconds
        rep.facts = inspect_image(real, client)
        rep.facts.ref = rep.tag
    except CourseError as e:
        rep.error = explain_failure(str(e))  # names the grading engine's bound when the build hit one
    return rep.built


def _run_into(
    rep: ImageReport, real: str, execs: dict[str, list[str]], wait_healthy: bool, timeout: float, client: Any
) -> None:
    """Run ``real`` under limits: record ``/health``, the health state and each command's result in ``rep``."""
    start = time.monotonic()
    try:
        wait = wait_healthy and bool(rep.facts and rep.facts.healthcheck)  # no HEALTHCHECK: its own check fails
        with run_container(real, ports=[8000], wait_healthy=wait, timeout=timeout, sandbox=True, client=client) as app:
            rep.seconds_to_ready = time.monotonic() - start
            answer = app.get("/health")
            rep.health_status, rep.health_body = answer.status, answer.body
            rep.healthy = app.health()
            for name, argv in execs.items():
                r = app.exec(argv)
                rep.exec_results[name] = (r.exit_code, r.output[-3000:])
    except CourseError as e:
        rep.run_error = explain_failure(str(e), SANDBOX_LIMITS["mem_limit"], SANDBOX_LIMITS["pids_limit"])


def rebuild_after_source_change(
    dockerfile_text: str, tag: str, dockerignore_text: str | None = None, client: Any = None
) -> tuple[BuildResult, BuildResult]:
    """Build on a copy of the app, change one source line, build again.

    Returns:
        The two :class:`~helpers.images.build.BuildResult` (first build, rebuild).

    Raises:
        FetchRefused: The Dockerfile fetches from a host that is not public.
    """
    check_fetches(dockerfile_text)
    tag = submission_tag(tag)
    with tempfile.TemporaryDirectory(prefix="course-lab-") as tmp:
        app = copy_app(Path(tmp) / "app")
        results = []
        for change in (False, True):
            if change:
                touch_source(app, f"source change {time.time()}")
            results.append(
                build(
                    app,
                    dockerfile_text=dockerfile_text,
                    dockerignore_text=dockerignore_text,
                    tags=[tag],
                    client=client,
                    timeout=build_timeout(),
                )
            )
    return results[0], results[1]


def static_checks(dockerfile_text: str) -> Any:
    """The lab checklist read from the Dockerfile text alone (no engine): a DataFrame check -> ok.

    A quick review while writing; the graded checks build and run the image instead.

    Raises:
        DockerfileError: The text is not a Dockerfile (the message names the line).
    """
    import pandas as pd

    checks = _checklist(parse_dockerfile(dockerfile_text))
    return pd.DataFrame({"check": list(checks), "ok": list(checks.values())}).set_index("check")


def _text(ins: Instruction) -> str:
    """An instruction's arguments, flags included, with its heredoc bodies (what the checklist reads)."""
    return " ".join([ins.args, *ins.heredocs])


_PIP = re.compile(r"\bpip3?\b")
_INSTALL = re.compile(r"\binstall\b")


def _pip_install(text: str) -> bool:
    """True when a line of ``text`` runs ``pip install`` ("pip", later on the same line "install").

    Student text: one search for the first ``pip`` per line, then one for ``install`` after it
    (linear; ``pip.*install`` would rescan the line from every ``pip``).
    """
    for line in text.splitlines():
        m = _PIP.search(line)
        if m and _INSTALL.search(line, m.end()):
            return True
    return False


def _copies_app(args: str) -> bool:
    """True when a COPY's last source is the app folder (``COPY [flags] ... . <dest>`` or ``app/``), by tokens."""
    words = args.split()
    return len(words) >= 2 and words[-2] in (".", "app", "app/") and not args[:1].isspace()


def _checklist(parsed: Dockerfile) -> dict[str, bool]:
    """Check name -> passed, for the habits Labs 1-2 teach (final stage = the instructions from the last FROM)."""
    ins, final = parsed.instructions, parsed.final.instructions
    pip = [i for i, x in enumerate(ins) if x.keyword == "RUN" and _pip_install(_text(x))]
    src = [i for i, x in enumerate(ins) if x.keyword == "COPY" and "from" not in x.flags and _copies_app(x.args)]
    users = [x.args for x in final if x.keyword == "USER"]
    last_cmd = next((x.args for x in reversed(final) if x.keyword in ("CMD", "ENTRYPOINT")), "")
    return {
        "multi-stage build (2+ FROM)": len(parsed.stages) >= 2,
        "final stage has a non-root USER": bool(users) and users[-1].split(":")[0] not in ("root", "0"),
        "HEALTHCHECK": any(x.keyword == "HEALTHCHECK" for x in final),
        "EXPOSE 8000": any(x.keyword == "EXPOSE" and "8000" in x.args for x in final),
        "CMD/ENTRYPOINT in exec form": last_cmd.startswith("["),
        "WORKDIR set": any(x.keyword == "WORKDIR" for x in ins),
        "dependencies installed before the source is copied": bool(pip) and (not src or max(pip) < min(src)),
        "no pip cache in the image (--no-cache-dir or a cache mount)": bool(pip)
        and all("--no-cache-dir" in _text(ins[i]) or "type=cache" in _text(ins[i]) for i in pip),
        "apt lists removed after apt-get install": all(
            "rm -rf /var/lib/apt/lists" in _text(x) for x in final if x.keyword == "RUN" and "apt-get install" in x.args
        ),
    }
