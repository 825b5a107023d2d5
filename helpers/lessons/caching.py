"""Build caching, shown live: build a small app, change one file, build again, and see
which steps came from the cache and which ran (with their times) - for two instruction orders.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.client import LABEL, get_client
from helpers.images.build import build
from helpers.images.buildmodel import BuildResult
from helpers.lessons.common import lesson_tag

__all__ = ["DOCKERFILES", "CachingDemo", "run_caching_demo", "image_layers", "remove_images"]

_HEAD = "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\nWORKDIR /app\n"
#: The two orders the lesson compares (same files, same result, different cache behaviour).
DOCKERFILES = {
    "deps-first": _HEAD + "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
    "COPY app.py .\nRUN python -m compileall -q .\n",
    "code-first": _HEAD + "COPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n"
    "RUN python -m compileall -q .\n",
}
REQUIREMENTS = "requests==2.32.3\n"
APP = (
    'import requests\n\nGREETING = "{greeting}"\n\n'
    'if __name__ == "__main__":\n    print(GREETING, requests.__version__)\n'
)


@dataclass
class CachingDemo:
    """Two builds of the same Dockerfile: files unchanged, then ``app.py`` changed.

    Attributes:
        order: "deps-first" or "code-first".
        dockerfile: The Dockerfile text.
        unchanged: The build with the files as they were last time.
        changed: The build after one line of ``app.py`` changed.
        tag: The image tag (the changed build).
    """

    order: str
    dockerfile: str
    unchanged: BuildResult
    changed: BuildResult
    tag: str

    def frame(self) -> Any:
        """Both builds' steps in one DataFrame (build, number, instruction, cached, seconds)."""
        import pandas as pd

        parts = []
        for name, res in (("unchanged", self.unchanged), ("app.py changed", self.changed)):
            df = res.steps_frame()
            df = df[~df["instruction"].str.startswith("FROM")].reset_index(drop=True)
            df.insert(0, "build", name)
            parts.append(df)
        return pd.concat(parts, ignore_index=True)

    @property
    def rebuilt(self) -> list[str]:
        """Instructions that ran again after the change."""
        return [s.instruction for s in self.changed.steps if not s.cached and not s.instruction.startswith("FROM")]


def run_caching_demo(
    order: str = "deps-first",
    dockerfile: str | None = None,
    tag_prefix: str = "course-lesson/caching",
    client: Any = None,
) -> CachingDemo:
    """Build twice: once with the files as before (warm cache), once after changing ``app.py``.

    The context holds ``requirements.txt`` (:data:`REQUIREMENTS`) and ``app.py``.

    Args:
        order: Which Dockerfile of :data:`DOCKERFILES` to use (or a name for ``dockerfile``).
        dockerfile: Your own Dockerfile text instead (start it with ``ARG BASE_IMAGE`` /
            ``FROM ${BASE_IMAGE}``).
        tag_prefix: Image name; the order is appended as the tag.
        client: docker-py client (connects lazily).

    Returns:
        A :class:`CachingDemo`.
    """
    get_client(client)
    text = dockerfile if dockerfile is not None else DOCKERFILES[order]
    tag = lesson_tag(tag_prefix, order)
    remove_images([tag], client=client)  # a leftover from an earlier run would be left dangling
    with tempfile.TemporaryDirectory(prefix="course-caching-") as tmp:
        ctx = Path(tmp)
        (ctx / "requirements.txt").write_text(REQUIREMENTS)
        (ctx / "app.py").write_text(APP.format(greeting="hello"))
        unchanged = build(ctx, dockerfile_text=text, tags=[tag], client=client)
        (ctx / "app.py").write_text(APP.format(greeting=f"hello {uuid.uuid4().hex[:6]}"))
        changed = build(ctx, dockerfile_text=text, tags=[tag], client=client)
    if unchanged.image_id and unchanged.image_id != changed.image_id:
        remove_images([unchanged.image_id], client=client)  # the first build lost its tag: no dangling leftovers
    return CachingDemo(order, text, unchanged, changed, tag)


def image_layers(image: str, client: Any = None) -> Any:
    """An image's layers from the base up: DataFrame with ``instruction`` and ``size`` (bytes)."""
    import pandas as pd

    c = get_client(client)
    rows = []
    for h in reversed(c.images.get(image).history()):
        instr = _instruction(h.get("CreatedBy", ""))
        rows.append({"instruction": " ".join(instr.split()), "size": int(h.get("Size", 0))})
    return pd.DataFrame(rows, columns=["instruction", "size"])


def _instruction(created_by: str) -> str:
    """Turn a history ``CreatedBy`` into the Dockerfile instruction it came from."""
    s = created_by.replace("# buildkit", "").strip()
    if not s:
        return "(base filesystem, imported)"
    if "#(nop)" in s:
        return s.split("#(nop)", 1)[1].strip()
    for prefix in ("RUN /bin/sh -c ", "/bin/sh -c ", "|"):
        if s.startswith(prefix):
            s = s[len(prefix) :]
            if prefix == "|":  # "|1 BASE_IMAGE=... /bin/sh -c cmd" (build args)
                s = s.split("/bin/sh -c ", 1)[-1]
            return "RUN " + s
    return s


def remove_images(tags: list[str], client: Any = None) -> list[str]:
    """Remove the given images (only ones carrying the kit label). Returns what was removed."""
    from docker.errors import APIError, NotFound

    c = get_client(client)
    removed = []
    for t in tags:
        try:
            img = c.images.get(t)
        except NotFound:
            continue
        if (img.labels or {}).get(LABEL) != "true":
            continue
        try:
            c.images.remove(t, force=True)
            removed.append(t)
        except APIError:
            pass
    return removed
