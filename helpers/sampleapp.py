"""The sample app (``sample_python_app/``) and its two reference images.

The app ships no Dockerfile: students write them in Labs 1 and 2. The reference solutions
(``helpers/data/sample_app/naive.Dockerfile`` for Lab 1 and ``optimized.Dockerfile`` +
``dockerignore`` for Lab 2) are what later notebooks (scanning, publishing, compose, VM
measurement) build with :func:`build_sample_image`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

from .build import BuildResult, build
from .errors import SetupError
from .paths import course_root

__all__ = ["VARIANTS", "SAMPLE_REPO", "app_dir", "reference_dockerfile", "reference_dockerignore",
           "build_sample_image", "copy_app", "touch_source", "touch_requirements"]

DATA = Path(__file__).parent / "data" / "sample_app"
#: Reference variants: "naive" (Lab 1: full base, one stage) and "optimized" (Lab 2).
VARIANTS = ("naive", "optimized")
#: Repository name of the sample image (tags are ``sample-api:<variant>``).
SAMPLE_REPO = "sample-api"


def app_dir() -> Path:
    """The ``sample_python_app`` folder of the course checkout.

    Raises:
        SetupError: It is missing (an incomplete checkout).
    """
    path = course_root() / "sample_python_app"
    if not (path / "requirements.txt").is_file():
        raise SetupError(f"The sample app is missing at {path}.", "Check out the whole course repository.")
    return path


def reference_dockerfile(variant: str = "optimized") -> str:
    """The text of a reference Dockerfile ("naive" or "optimized")."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    return (DATA / f"{variant}.Dockerfile").read_text()


def reference_dockerignore() -> str:
    """The reference ``.dockerignore`` of Lab 2."""
    return (DATA / "dockerignore").read_text()


def build_sample_image(
    variant: str = "naive",
    client: Any = None,
    tag: str | None = None,
    context: str | Path | None = None,
    no_cache: bool = False,
    on_line: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build the sample app with a reference Dockerfile.

    Args:
        variant: "naive" (Lab 1's reference: full base, single stage) or "optimized"
            (Lab 2's: multi-stage, slim runtime, non-root, HEALTHCHECK).
        client: docker-py client (connects lazily).
        tag: Image tag (default ``sample-api:<variant>``).
        context: The app folder to build (default :func:`app_dir`; pass a copy to change it).
        no_cache: Build without the cache.
        on_line: Called with every build log line (e.g. a :class:`helpers.widgets.BuildProgress`).

    Returns:
        The :class:`~helpers.build.BuildResult` (the image carries the kit's labels).
    """
    text = reference_dockerfile(variant)
    ignore = reference_dockerignore() if variant == "optimized" else None
    return build(context or app_dir(), dockerfile_text=text, dockerignore_text=ignore,
                 tags=[tag or f"{SAMPLE_REPO}:{variant}"], no_cache=no_cache, on_line=on_line, client=client)


def copy_app(dest: str | Path) -> Path:
    """Copy the sample app to ``dest`` (which must not exist yet) so it can be edited freely."""
    dest = Path(dest)
    shutil.copytree(app_dir(), dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "data", ".venv"))
    return dest


def touch_source(app: str | Path, text: str = "edited") -> Path:
    """A one-line source change: append a comment to ``app/main.py`` of a copy. Returns the file."""
    path = Path(app) / "app" / "main.py"
    with path.open("a") as f:
        f.write(f"\n# {text}\n")
    return path


def touch_requirements(app: str | Path, line: str = "# dependency change") -> Path:
    """A dependency change: append a line to ``requirements.txt`` of a copy. Returns the file."""
    path = Path(app) / "requirements.txt"
    with path.open("a") as f:
        f.write(f"{line}\n")
    return path
