"""The sandbox's image: the course's Python packages and this kit's ``helpers`` on the slim course base.

Built once per change: its tag carries a digest of the pinned packages and of ``helpers/``, so editing
either rebuilds it (the pip layer stays cached). ``course.autograde`` builds it before the workers start
and hands its reference to them in :data:`IMAGE_ENV`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.engine.client import SESSION_LABEL, get_client, kit_labels
from helpers.images.build import build
from helpers.paths import DATA_DIR, PACKAGE_DIR

__all__ = ["GRADER_IMAGE", "GRADER_PACKAGES", "IMAGE_ENV", "grader_image"]

GRADER_IMAGE = "course-grader"
#: Packages of the course environment the sandbox needs (pinned from pyproject.toml).
GRADER_PACKAGES = (
    "nbclient",
    "nbformat",
    "ipykernel",
    "ipywidgets",
    "pandas",
    "matplotlib",
    "docker",
    "PyYAML",
    "requests",
)
#: Set by ``course.autograde`` so every worker uses the image it built once.
IMAGE_ENV = "COURSE_GRADER_IMAGE"
_DATA = DATA_DIR / "grader"


def _requirements(root: Path) -> str:
    """The sandbox's requirements: :data:`GRADER_PACKAGES`, pinned as the kit's ``pyproject.toml`` pins them."""
    text = (root / "pyproject.toml").read_text() if (root / "pyproject.toml").exists() else ""  # the kit's pins
    pins = dict(re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', text))
    lower = {k.lower(): (k, v) for k, v in pins.items()}
    return "".join(
        f"{lower[p.lower()][0]}=={lower[p.lower()][1]}\n" if p.lower() in lower else f"{p}\n" for p in GRADER_PACKAGES
    )


def _helpers_digest(req: str) -> str:
    """A short digest of the requirements, the sandbox Dockerfile and every ``helpers/*.py``: the image's tag."""
    h = hashlib.sha256(req.encode() + (_DATA / "Dockerfile").read_bytes())
    pkg = PACKAGE_DIR
    for p in sorted(pkg.rglob("*.py")):
        h.update(str(p.relative_to(pkg)).encode() + p.read_bytes())
    return h.hexdigest()[:12]


def grader_image(rebuild: bool = False, on_line: Callable[[str], None] | None = None, client: Any = None) -> str:
    """Return the sandbox image, building it from the slim course base when missing.

    The tag carries a digest of the pinned packages and of ``helpers/``, so a change rebuilds it
    (the pip layer stays cached). First build: about 1-2 minutes (pip install); then instant.

    Returns:
        The image reference, e.g. ``course-grader:3f2a...``.
    """
    from docker.errors import ImageNotFound

    c = get_client(client)
    req = _requirements(PACKAGE_DIR.parent)
    ref = f"{GRADER_IMAGE}:{_helpers_digest(req)}"
    if not rebuild:
        try:
            c.images.get(ref)
            return ref
        except ImageNotFound:
            pass
    with tempfile.TemporaryDirectory(prefix="course-grader-") as ctx:
        (Path(ctx) / "requirements.txt").write_text(req)
        shutil.copytree(PACKAGE_DIR, Path(ctx) / "helpers", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        # Labelled as the kit's, under its own session: a test session's cleanup keeps this cache.
        build(
            ctx,
            dockerfile=_DATA / "Dockerfile",
            tags=[ref],
            kit_label=False,
            labels={**kit_labels("grader"), SESSION_LABEL: "grader"},
            on_line=on_line,
            client=c,
        )
    return ref
