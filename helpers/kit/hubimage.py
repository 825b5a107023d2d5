"""The course's JupyterHub single-user image (``hub/Dockerfile``), built from the students' copy.

``python -m helpers hub-image`` (``make hub-image``) writes the students' copy (:mod:`helpers.kit.studentrepo`)
into a temporary folder and builds ``hub/Dockerfile`` on it, on the slim course base (the official
``python:3.12-slim`` where a registry answers, else the kit's stand-in: docs/BASE-IMAGES.md). The image holds
no solution: only what the students' copy holds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from helpers.engine.client import kit_labels
from helpers.images.build import build
from helpers.kit.studentrepo import build_student_repo
from helpers.paths import course_root

__all__ = ["HUB_DOCKERFILE", "HUB_IMAGE", "build_hub_image"]

#: The default tag (push it to the registry the hub pulls from).
HUB_IMAGE = "docker-cicd-hub:latest"
#: Relative to the course root (the instructor's checkout; the students' copy does not carry it).
HUB_DOCKERFILE = "hub/Dockerfile"


def build_hub_image(
    tag: str = HUB_IMAGE,
    labels: Mapping[str, str] | None = None,
    on_line: Callable[[str], None] | None = None,
    root: Path | None = None,
    client: Any = None,
) -> str:
    """Build the single-user image from a fresh students' copy and return its reference (``tag``).

    Raises:
        BuildError: The build failed (the message names the step).
    """
    root = Path(root or course_root())
    with tempfile.TemporaryDirectory(prefix="course-hub-") as tmp:
        copy = build_student_repo(Path(tmp) / "course", root)
        build(
            copy.dest,
            dockerfile=root / HUB_DOCKERFILE,
            tags=[tag],
            labels={**kit_labels("hub"), **(labels or {})},
            on_line=on_line,
            client=client,
        )
    return tag
