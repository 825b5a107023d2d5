"""How the shrink activity (``source/activity-shrink-image``) is graded: build the student's file, apply dive's rules.

The student edits the real file ``Dockerfile`` in the activity folder (the starter is the lesson's wasteful
one). :func:`verdicts` reads it, checks that it parses, builds ``FROM ${BASE_IMAGE}`` and is not the starter
unchanged (``dockerfile_parses``), then builds it with an empty context (nothing is copied in), reads its layers
with :func:`helpers.layers.analysis.analyze_layers`, checks that the app's files are still there with their sizes,
applies dive's CI rules (:func:`helpers.layers.ci_rules.evaluate_ci`) and runs the image once under limits: it
must still print ``ok`` (``dockerfile_passes_ci``). Part A of the activity (``squash_layers``) is plain Python and
stays graded in the notebook. Bad input never raises: it is a failed :class:`~helpers.grading.verdicts.Verdict`.
"""

from __future__ import annotations

import tempfile
from typing import Any

from helpers.engine.client import get_client, kit_labels
from helpers.errors import CourseError
from helpers.grading.labs.common import build_timeout, submission_tag
from helpers.grading.verdicts import Verdict
from helpers.images.build import build
from helpers.images.health import log_tail
from helpers.images.run import SANDBOX_LIMITS
from helpers.images.running import remove_container
from helpers.layers.analysis import analyze_layers
from helpers.layers.ci_rules import evaluate_ci
from helpers.layers.lesson import LESSON_DOCKERFILES
from helpers.review.dockerfile import Dockerfile, parse_dockerfile

__all__ = ["SHRINK_TAG", "KEEP", "GRADE_IDS", "verdicts"]

#: Tag of the image the grader builds (unique per submission on the grader).
SHRINK_TAG = "course-lab/activity-shrink:graded"
#: The files the image must keep: path -> size in bytes (None: any size).
KEEP: dict[str, int | None] = {"/app/app.py": None, "/app/data.bin": 1_000_000, "/app/model.bin": 15_000_000}
#: The graded cells this module decides (``source/activity-shrink-image/grading.yml``).
GRADE_IDS = ("dockerfile_parses", "dockerfile_passes_ci")
_UNCHANGED = "This is the wasteful Dockerfile, unchanged: shrink it."
#: The file the activity asks to keep private, and the mode it must have.
MODEL = "/app/model.bin"
MODEL_MODE = 0o600
#: Seconds the app may run before it counts as hanging.
RUN_SECONDS = 30


def verdicts(sub: Any) -> dict[str, Verdict]:
    """grade_id -> :class:`Verdict` for the activity's Dockerfile cells, from the submitted ``Dockerfile``."""
    text = sub.text("Dockerfile")
    if not text or not text.strip():
        return dict.fromkeys(GRADE_IDS, Verdict(False, "No Dockerfile in your folder (or it is empty)."))
    try:
        parsed = parse_dockerfile(text)
    except CourseError as e:
        return dict.fromkeys(GRADE_IDS, Verdict(False, f"Your Dockerfile does not parse: {_short(str(e))}"))
    parses = _parses(parsed)
    if parses.said == _UNCHANGED:  # the starter fails dive's rules by design: no build needed to say so
        return dict.fromkeys(GRADE_IDS, parses)
    return {"dockerfile_parses": parses, "dockerfile_passes_ci": _passes_ci(text)}


def _steps(parsed: Dockerfile) -> list[tuple[str, str]]:
    """The instructions as (keyword, arguments with collapsed spaces): what comments and layout do not change."""
    return [(i.keyword, " ".join(i.args.split())) for i in parsed.instructions]


def _parses(parsed: Dockerfile) -> Verdict:
    """It has a FROM and instructions, builds from ``${BASE_IMAGE}``, and is not the wasteful one as given."""
    if not parsed.stages or not parsed.final.instructions:
        return Verdict(False, "The Dockerfile needs a FROM and instructions.")
    base = parsed.final.base
    if "${BASE_IMAGE}" not in base and not base.startswith("python"):
        return Verdict(False, f"The final stage builds FROM {base}: keep FROM ${{BASE_IMAGE}}.")
    if _steps(parsed) == _steps(parse_dockerfile(LESSON_DOCKERFILES["wasteful"])):
        return Verdict(False, _UNCHANGED)
    return Verdict(True, f"It parses: {len(parsed.instructions)} instructions, FROM {base}.")


def _passes_ci(text: str) -> Verdict:
    """Build it, check the files, dive's rules and that the app still prints ``ok``."""
    tag = submission_tag(SHRINK_TAG)
    try:
        with tempfile.TemporaryDirectory(prefix="course-shrink-") as ctx:
            build(ctx, dockerfile_text=text, tags=[tag], timeout=build_timeout())
        analysis = analyze_layers(tag)
    except CourseError as e:
        return Verdict(False, f"The image does not build: {_short(str(e))}")
    visible = {p: s for p, _layer, s in analysis.visible}
    for path, size in KEEP.items():
        if path not in visible or (size is not None and visible[path] != size):
            want = f" ({size:,} bytes)" if size else ""
            return Verdict(False, f"Keep {path}{want}: the image has {visible.get(path, 'no such file')}.")
    ci = evaluate_ci(analysis)
    if not ci.passed:
        failed = "; ".join(r.message for r in ci.rules if r.status == "FAIL")
        return Verdict(False, f"dive's CI rules fail: {failed}")
    said, mode = _run_once(tag)
    if said != "ok":
        return Verdict(False, f"The files and the rules are fine, but the app does not print ok: {said}")
    if mode != MODEL_MODE:
        shown = f"{mode:o}" if mode is not None else "unknown"
        return Verdict(False, f"{MODEL} must be readable by its owner only (mode {MODEL_MODE:o}); it is {shown}.")
    return Verdict(True, f"Passes dive's rules (efficiency {analysis.efficiency:.3f}); the app prints ok.")


def _run_once(tag: str, client: Any = None) -> tuple[str, int | None]:
    """Run the image's command once under limits, no network: its output ("ok" when the app works), and the
    permission bits of :data:`MODEL` (read from the engine's stat of the path; the file itself is not read)."""
    c = get_client(client)
    ctr = None
    try:
        # create, then start: a start that fails (no such command) still leaves a container to remove
        ctr = c.containers.create(tag, network_disabled=True, labels=kit_labels("lab"), **SANDBOX_LIMITS)
        ctr.start()
        code = ctr.wait(timeout=RUN_SECONDS).get("StatusCode")
        out = log_tail(ctr, lines=5).strip()
        return (out if code == 0 else f"exit {code}: {_short(out)}"), _mode(ctr)
    except Exception as e:  # noqa: BLE001  (a student's image: a hang or an engine refusal is a failed check)
        return f"it did not run to the end ({type(e).__name__}: {_short(str(e))})", None
    finally:
        if ctr is not None:
            remove_container(ctr)


def _mode(ctr: Any) -> int | None:
    """Permission bits of :data:`MODEL` in a container, from the archive endpoint's stat header (no body read)."""
    stream, stat = ctr.get_archive(MODEL)
    close = getattr(stream, "close", None)
    if close:
        close()
    return int(stat.get("mode", 0)) & 0o777 if stat else None


def _short(text: str, limit: int = 300) -> str:
    """The last ``limit`` characters of ``text`` on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else "..." + flat[-limit:]
