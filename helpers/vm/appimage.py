"""The image every measurement runs: which app, how to reach it, and how it is built.

Containers and VMs are measured on the same image (:class:`AppImage`), so that the figures
compare the platforms and not two different apps. :func:`measure_app_image` builds the course's
sample app when it is there, else a tiny ``http.server`` image.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.client import kit_labels
from helpers.images.build import build
from helpers.paths import course_root

__all__ = ["AppImage", "measure_app_image"]

#: Role label of everything the measurements create (see :func:`helpers.vm.measure.measure_leftovers`).
ROLE = "measure"

_SAMPLE_APP_DOCKERFILE = """\
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
WORKDIR /srv
COPY requirements.txt .
# psycopg2 is left out: it needs a compiler, and the measurement uses SQLite
RUN grep -v '^psycopg2' requirements.txt > req.txt && pip install --no-cache-dir -r req.txt && rm req.txt
COPY app ./app
ENV PORT=8000 DATA_DIR=/srv/data
EXPOSE 8000
CMD ["python", "-m", "app"]
"""

_HTTP_SERVER_DOCKERFILE = """\
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
WORKDIR /srv
RUN echo ok > health
EXPOSE 8000
CMD ["python3", "-m", "http.server", "8000"]
"""


@dataclass(frozen=True)
class AppImage:
    """An image to measure and how to reach it.

    Attributes:
        ref: Image reference.
        port: Port the app listens on inside the container (or the VM).
        path: A path that answers HTTP 200 when the app is up.
        description: What the image runs, for the printed environment.
    """

    ref: str
    port: int = 8000
    path: str = "/health"
    description: str = ""


def measure_app_image(
    client: Any = None, tag: str = "course-measure/app:latest", app_dir: str | Path | None = None, timeout: int = 600
) -> AppImage:
    """Build the image the measurements use by default (cached after the first build).

    The course's sample app (FastAPI + uvicorn) on the slim base image when
    ``sample_python_app/`` is in the course; else Python's ``http.server``.

    Args:
        client: docker-py client (connects lazily).
        tag: Reference of the image to build.
        app_dir: Folder of the app (default: ``sample_python_app`` in the course root).
        timeout: Seconds before the build is stopped.

    Returns:
        An :class:`AppImage`.

    Raises:
        BuildError: The build failed.
        EngineUnavailable: No engine answers.
    """
    app = Path(app_dir) if app_dir else course_root() / "sample_python_app"
    found = (app / "requirements.txt").is_file() and (app / "app").is_dir()
    with tempfile.TemporaryDirectory(prefix="course-measure-") as empty:
        build(
            app if found else empty,
            dockerfile_text=_SAMPLE_APP_DOCKERFILE if found else _HTTP_SERVER_DOCKERFILE,
            tags=[tag],
            labels=kit_labels(ROLE),
            timeout=timeout,
            client=client,
        )
    if found:
        return AppImage(tag, 8000, "/health", "sample_python_app (FastAPI + uvicorn, SQLite) on the slim base")
    return AppImage(tag, 8000, "/health", "python3 -m http.server on the slim base (sample app not found)")
