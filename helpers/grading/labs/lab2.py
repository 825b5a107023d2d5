"""How Lab 2 (``source/lab2-improve-dockerfile``) is graded: the student's improved image, built and measured.

The student edits two real files in the lab folder: ``Dockerfile`` and ``Dockerfile.dockerignore`` (BuildKit reads
``<Dockerfile name>.dockerignore`` beside the Dockerfile, in preference to the context's ``.dockerignore``; the
context is the kit's sample app). :func:`verdicts` builds them against the pristine sample app on whatever engine
the environment points at (the grading engine on the grader, the lab engine for a self-check), runs the image
until healthy, looks inside (uid, no compiler, libpq), rebuilds after a source change, probes the build context,
and compares the size with the Lab 1 reference (:func:`reference_size`, measured once per engine and cached).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import OFFICIAL, base_image
from helpers.engine.client import get_client, kit_labels
from helpers.errors import CourseError, DockerfileError, EngineUnavailable
from helpers.grading.labs import common
from helpers.grading.labs.common import ImageReport, build_timeout, check_dockerfile, submission_tag
from helpers.grading.verdicts import Submission, Verdict
from helpers.images.build import build
from helpers.kit.sampleapp import copy_app, sample_dockerfile
from helpers.paths import state_dir
from helpers.review.dockerfile import parse_dockerfile

__all__ = ["LAB2_TAG", "SIZE_MARGIN", "FILES", "PROBES", "verdicts", "reference_size", "context_leaks"]

#: Tag of the image the grader builds (students' own builds use other tags).
LAB2_TAG = "lab2-sample-api:graded"
REFERENCE_TAG = "lab1-sample-api:reference"
#: The student's files, in the lab folder (the build context is the kit's sample app).
FILES = ("Dockerfile", "Dockerfile.dockerignore")
#: The improved image must be at most this fraction of the Lab 1 reference image.
SIZE_MARGIN = 0.5
#: What the ignore file must keep out of the build context.
PROBES = (".git", ".venv", "tests")
#: Commands run in the improved container: its uid, a compiler left behind, libpq at run time.
EXECS = {
    "uid": ["id", "-u"],
    "gcc": ["sh", "-c", "command -v gcc || command -v cc"],
    "psycopg2": ["python", "-c", "import psycopg2; print(psycopg2.__libpq_version__)"],
}
_PROBE = "FROM scratch\nCOPY . /ctx/\n"
_CACHE_FILE = "lab2-reference-size.json"


def verdicts(sub: Submission) -> dict[str, Verdict]:
    """grade_id -> :class:`Verdict` for every graded cell of Lab 2 (never raises for bad student input).

    Raises:
        EngineUnavailable: No engine answers (the lab cannot be graded here; not the student's fault).
    """
    dockerfile, ignore = sub.text(FILES[0]), sub.text(FILES[1])
    empty = _nothing_to_build(dockerfile)
    rep = None
    if not empty:
        rep = check_dockerfile(
            dockerfile, LAB2_TAG, dockerignore_text=ignore, execs=EXECS, wait_healthy=True, timeout=common.LAB_TIMEOUT
        )
    if rep is None or not rep.built:
        said = empty or f"Your Dockerfile did not build: {_short(rep.error if rep else '')}"
        out = {gid: Verdict(False, said) for gid in _IMAGE_CELLS}
    else:
        # A container that never turns healthy is still looked inside (user, /health, compiler, libpq):
        # run it again without waiting for health, so one mistake fails one cell.
        ran = rep if not rep.run_error else check_dockerfile(dockerfile, LAB2_TAG, ignore, execs=EXECS, timeout=30)
        out = {
            "test_builds": _builds_verdict(rep),
            "test_non_root": _non_root_verdict(ran),
            "test_smaller": _smaller_verdict(rep),
            "test_dependency_layer_cached": _cached_verdict(dockerfile, ignore),
            "test_healthcheck": _health_verdict(rep),
            "test_runtime_stage": _runtime_verdict(ran, dockerfile),
        }
    out["test_dockerignore"] = _ignore_verdict(ignore)
    return out


_IMAGE_CELLS = (
    "test_builds",
    "test_non_root",
    "test_smaller",
    "test_dependency_layer_cached",
    "test_healthcheck",
    "test_runtime_stage",
)


def _nothing_to_build(dockerfile: str | None) -> str:
    """Why there is nothing to build (no file, or no instruction: the starter), or "" (then the engine decides)."""
    if dockerfile is None:
        return f"No {FILES[0]} in the lab folder (or it is over the size limit): nothing to build."
    if not any(line.strip() and not line.lstrip().startswith("#") for line in dockerfile.splitlines()):
        return f"Your {FILES[0]} has no instruction yet (only comments): nothing to build."
    return ""  # anything else: the build decides, and says what is wrong in BuildKit's words


def _short(text: str, limit: int = 300) -> str:
    """The last ``limit`` characters of an error, on one line (verdicts are one or two lines)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else "..." + flat[-limit:]


def _builds_verdict(rep: ImageReport) -> Verdict:
    """It built, and its final stage starts from the slim base image."""
    base = rep.facts.base if rep.facts else ""
    slim = {base_image("slim"), OFFICIAL["slim"]}
    if base not in slim:
        return Verdict(
            False, f"It builds, but the final stage starts from {base or 'an unknown base'}, not the slim one."
        )
    return Verdict(True, f"It builds, and its final stage starts from the slim base ({base}).")


def _non_root_verdict(rep: ImageReport) -> Verdict:
    """USER is not root, and ``id -u`` in the running container prints a non-zero uid."""
    assert rep.facts is not None
    if rep.facts.runs_as_root:
        return Verdict(False, f"The image runs as {rep.facts.user or 'root (no USER)'}.")
    code, out = rep.exec_results.get("uid", (1, ""))
    if code != 0 or out.strip() in ("", "0"):
        return Verdict(False, _short(rep.run_error or f"`id -u` in the container printed {out.strip()!r}."))
    return Verdict(True, f"USER {rep.facts.user}; `id -u` in the container prints {out.strip()}.")


def _smaller_verdict(rep: ImageReport) -> Verdict:
    """The image is at most :data:`SIZE_MARGIN` of the Lab 1 reference image."""
    assert rep.facts is not None
    try:
        ref = reference_size()
    except CourseError as e:
        return Verdict(False, f"The grader could not measure the Lab 1 reference: {_short(str(e))}")
    ratio = rep.facts.size / ref
    said = f"{rep.facts.size_mb:.0f} MB, {ratio:.0%} of the Lab 1 reference ({ref / 1e6:.0f} MB)"
    if ratio > SIZE_MARGIN:
        return Verdict(False, f"{said}; at most {SIZE_MARGIN:.0%} needed.")
    return Verdict(True, said + ".")


def _cached_verdict(dockerfile: str, ignore: str | None) -> Verdict:
    """After a one-line change to ``app/main.py``, every dependency step (pip / requirements) is ``CACHED``."""
    try:
        steps = dependency_steps_cached(dockerfile, ignore)
    except CourseError as e:
        return Verdict(False, f"The rebuild after a source change failed: {_short(str(e))}")
    if not steps:
        return Verdict(False, "No step installs the requirements (pip ... requirements.txt).")
    rebuilt = [s for s, cached in steps.items() if not cached]
    if rebuilt:
        return Verdict(False, _short(f"Rebuilt after a source-only change: {rebuilt}"))
    return Verdict(True, f"After a change to app/main.py, {len(steps)} dependency step(s) were CACHED.")


def _health_verdict(rep: ImageReport) -> Verdict:
    """A HEALTHCHECK is in the image and the running container turns healthy."""
    assert rep.facts is not None
    if not rep.facts.healthcheck:
        return Verdict(False, "No HEALTHCHECK in the image.")
    if rep.healthy != "healthy":
        return Verdict(False, _short(rep.run_error or f"The container's health is {rep.healthy!r}, not healthy."))
    return Verdict(True, "HEALTHCHECK present; the container turned healthy.")


def _runtime_verdict(rep: ImageReport, dockerfile: str) -> Verdict:
    """Multi-stage (the final stage copies from another), answers ``/health``, no compiler, psycopg2 imports."""
    try:
        parsed = parse_dockerfile(dockerfile)
        staged = len(parsed.stages) >= 2 and any(_uses_a_stage(i.flags) for i in parsed.final.instructions)
    except DockerfileError:
        staged = False
    if not staged:
        return Verdict(
            False, "Not a multi-stage build: the final stage takes nothing from a builder stage (COPY --from, mount)."
        )
    if rep.health_status != 200:
        return Verdict(False, _short(rep.run_error or f"GET /health answered {rep.health_status}."))
    if rep.exec_results.get("gcc", (1, ""))[0] == 0:
        return Verdict(False, "A compiler is still in the final image.")
    if rep.exec_results.get("psycopg2", (1, ""))[0] != 0:
        return Verdict(False, "psycopg2 does not import in the final image (is libpq5 installed there?).")
    return Verdict(True, "Multi-stage; /health answers 200; no compiler; psycopg2 imports.")


def _uses_a_stage(flags: dict[str, str]) -> bool:
    """``COPY --from=<stage>``, or ``RUN --mount=...,from=<stage>`` (installing a builder's wheels counts too)."""
    return "from" in flags or any(p.strip().startswith("from=") for p in flags.get("mount", "").split(","))


def _ignore_verdict(ignore: str | None) -> Verdict:
    """The ignore file keeps :data:`PROBES` out of the build context (measured on the engine)."""
    if ignore is None:
        return Verdict(False, f"No {FILES[1]} in the lab folder (or it is over the size limit): nothing is left out.")
    try:
        leaks = context_leaks(ignore)
    except CourseError as e:
        if isinstance(e, EngineUnavailable):
            raise
        return Verdict(False, f"The context probe failed: {_short(str(e))}")
    if leaks:
        return Verdict(False, f"Still sent to the engine: {', '.join(leaks)}.")
    return Verdict(True, f"{', '.join(PROBES)} stay out of the build context.")


def dependency_steps_cached(dockerfile_text: str, dockerignore_text: str | None = None) -> dict[str, bool]:
    """After a one-line source change, which dependency steps (pip / requirements) came from cache.

    Returns:
        instruction -> cached, for every step that mentions ``pip`` or ``requirements`` (empty when none).

    Raises:
        BuildError: A build failed.
    """
    _, second = common.rebuild_after_source_change(dockerfile_text, LAB2_TAG + "-rebuild", dockerignore_text)
    return {
        s.instruction: s.cached
        for s in second.steps
        if re.search(r"\bpip\b|requirements", s.instruction) and not s.instruction.startswith("FROM")
    }


def reference_key(client: Any = None) -> str:
    """What the reference size depends on: the engine, the Lab 1 reference Dockerfile, the base images' ids."""
    c = get_client(client)
    bases = [c.images.get(base_image(kind, c)).id for kind in ("full", "slim")]
    parts = [str(c.info().get("ID", "")), sample_dockerfile("naive")[1], *bases]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def reference_size(client: Any = None) -> int:
    """Size in bytes of the Lab 1 reference image, built once per engine and cached on disk by :func:`reference_key`.

    Raises:
        CourseError: The reference does not build (the kit is broken, not the submission).
    """
    key = reference_key(client)
    path = state_dir() / _CACHE_FILE
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and isinstance(known.get(key), int):
        return known[key]
    rep = check_dockerfile(sample_dockerfile("naive")[1], REFERENCE_TAG, client=client)
    if not rep.built or rep.facts is None:
        raise CourseError(f"The Lab 1 reference image did not build: {rep.error}", "Run `make test` to check the kit.")
    known = {**(known if isinstance(known, dict) else {}), key: rep.facts.size}
    path.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    return rep.facts.size


def context_leaks(dockerignore_text: str, probes: tuple[str, ...] = PROBES, client: Any = None) -> list[str]:
    """Which of ``probes`` still reach the build context with this ignore file (measured).

    A copy of the app gets a ``.git`` and a ``.venv`` folder with a file in each; the engine builds
    ``FROM scratch`` + ``COPY . /ctx/`` from it and the files that arrived are listed.
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
