"""The images of the layer-analysis lesson and activity, wherever this notebook runs.

With an engine, the lesson's Dockerfiles are built here (a few seconds with a warm cache).
With none, the archives the instructor exported with ``make prebuilt`` are used
(``layers-<name>`` in :data:`helpers.kit.prebuilt.CATALOG`), else the tiny demo
archive committed in ``notebooks/data/layers-demo.tar``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from helpers.engine.client import engine_available
from helpers.errors import CourseError
from helpers.images.build import build
from helpers.kit.prebuilt import find_archive
from helpers.paths import course_root

__all__ = [
    "LESSON_DOCKERFILES",
    "lesson_sources",
    "build_lesson_image",
    "demo_archive_path",
    "prebuilt_wasteful",
    "prebuilt_lean",
]

_HEAD = "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\nWORKDIR /app\n"

#: The lesson's images. "wasteful" has every classic mistake; "lean" builds the same files.
LESSON_DOCKERFILES: dict[str, str] = {
    "wasteful": _HEAD
    + """\
# a pip-style download cache, written in one layer ...
RUN mkdir -p /root/.cache/pip && head -c 20000000 /dev/urandom > /root/.cache/pip/http-cache.bin
RUN printf 'print("ok")\\n' > /app/app.py && head -c 1000000 /dev/urandom > /app/data.bin
# a build artifact copied into place, then the temporary copy deleted in a later layer
RUN head -c 15000000 /dev/urandom > /tmp/model.o && cp /tmp/model.o /app/model.bin
# ... and deleted in another: the bytes still ship in the layer below
RUN rm -rf /root/.cache/pip /tmp/model.o
# chmod copies the whole file into a new layer
RUN chmod 600 /app/model.bin
CMD ["python", "/app/app.py"]
""",
    "lean": _HEAD
    + """\
RUN printf 'print("ok")\\n' > /app/app.py && head -c 1000000 /dev/urandom > /app/data.bin \\
 && head -c 15000000 /dev/urandom > /tmp/model.o && install -m 600 /tmp/model.o /app/model.bin \\
 && rm -f /tmp/model.o
CMD ["python", "/app/app.py"]
""",
}


def demo_archive_path() -> Path:
    """The tiny committed demo archive (a wasteful image, about 1 MB)."""
    return course_root() / "notebooks" / "data" / "layers-demo.tar"


def build_lesson_image(
    name: str, dockerfile_text: str | None = None, tag: str | None = None, client: Any = None
) -> str:
    """Build one of :data:`LESSON_DOCKERFILES` (or the given text) and return its tag."""

    tag = tag or f"course-lab/layers-{name}:lesson"
    with tempfile.TemporaryDirectory(prefix="course-layers-") as ctx:
        build(ctx, dockerfile_text=dockerfile_text or LESSON_DOCKERFILES[name], tags=[tag], client=client)
    return tag


def lesson_sources(
    names: tuple[str, ...] = ("wasteful", "lean"), client: Any = None, mode: Any = None
) -> tuple[dict[str, str], str]:
    """Where to read each lesson image from, and how it was found.

    Args:
        names: Lesson images wanted.
        mode: The notebook's :class:`helpers.kit.mode.CourseMode`: when given, it decides engine or
            not, and each archive is taken through ``mode.archive`` (so the skip report lists
            a missing one).

    Returns:
        (name -> image reference or archive path, how) where how is "engine", "prebuilt"
        or "demo" (only the demo archive, standing in for "wasteful").
    """

    if mode.engine if mode is not None else engine_available(client):
        return {n: build_lesson_image(n, client=client) for n in names}, "engine"
    if mode is not None:
        found = {n: mode.archive(f"layers-{n}", f"the lesson's {n} image") for n in names} if mode.prebuilt else {}
        if all(found.values()) and found:
            return {n: str(p) for n, p in found.items()}, "prebuilt"
        return {"wasteful": str(demo_archive_path())}, "demo"
    try:
        return {n: str(find_archive(f"layers-{n}")) for n in names}, "prebuilt"
    except CourseError:
        pass
    return {"wasteful": str(demo_archive_path())}, "demo"


def prebuilt_wasteful(client: Any = None) -> str:
    """The lesson's wasteful image, as ``make prebuilt`` exports it (:data:`helpers.kit.prebuilt.CATALOG`)."""
    return build_lesson_image("wasteful", client=client)


def prebuilt_lean(client: Any = None) -> str:
    """The lesson's lean image, as ``make prebuilt`` exports it (:data:`helpers.kit.prebuilt.CATALOG`)."""
    return build_lesson_image("lean", client=client)
