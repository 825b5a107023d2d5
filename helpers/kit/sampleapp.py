"""The sample app (``sample_python_app/``) and its two reference images.

The app ships no Dockerfile: students write them in Labs 1 and 2. The reference solutions
(``helpers/data/sample_app/naive.Dockerfile`` for Lab 1 and ``optimized.Dockerfile`` +
``dockerignore`` for Lab 2) are what later notebooks (scanning, publishing, compose, VM
measurement) build with :func:`build_sample_image`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from helpers.errors import SetupError
from helpers.images.build import build
from helpers.images.buildmodel import BuildResult
from helpers.images.inspect import inspect_image
from helpers.paths import DATA_DIR, course_root

__all__ = [
    "VARIANTS",
    "SAMPLE_REPO",
    "app_dir",
    "reference_dockerfile",
    "reference_dockerignore",
    "build_sample_image",
    "copy_app",
    "touch_source",
    "touch_requirements",
    "measure_builds",
]

DATA = DATA_DIR / "sample_app"
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
        on_line: Called with every build log line (e.g. a :class:`helpers.images.widgets.BuildProgress`).

    Returns:
        The :class:`~helpers.images.build.BuildResult` (the image carries the kit's labels).
    """
    text = reference_dockerfile(variant)
    ignore = reference_dockerignore() if variant == "optimized" else None
    return build(
        context or app_dir(),
        dockerfile_text=text,
        dockerignore_text=ignore,
        tags=[tag or f"{SAMPLE_REPO}:{variant}"],
        no_cache=no_cache,
        on_line=on_line,
        client=client,
    )


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


def measure_builds(
    variants: dict[str, tuple[str, str | None]],
    cold: bool = True,
    client: Any = None,
    on_line: Callable[[str], None] | None = None,
    dependency_change_for: Iterable[str] | None = None,
) -> Any:
    """Build each variant three times, side by side in one run, and measure.

    For each variant (label -> (Dockerfile text, .dockerignore text or None)), on its own copy
    of the app: a cold build (``no_cache``; with ``cold=False`` a normal first build), a rebuild
    after a one-line source change, a rebuild after a dependency change (only for the labels in
    ``dependency_change_for`` when given; NaN for the others, to save time).

    Returns:
        A pandas DataFrame indexed by label: size_mb, layers, cold_s, source_change_s,
        dependency_change_s, source_change_vs_cold (ratio), deps_cached_on_source_change.
    """
    import pandas as pd

    wanted = None if dependency_change_for is None else set(dependency_change_for)
    rows = [
        _measure_variant(
            label,
            dockerfile,
            ignore,
            f"{SAMPLE_REPO}:measure-{i}",
            cold,
            wanted is None or label in wanted,
            on_line,
            client,
        )
        for i, (label, (dockerfile, ignore)) in enumerate(variants.items())
    ]
    return pd.DataFrame(rows).set_index("image")


def _measure_variant(
    label: str,
    dockerfile: str,
    ignore: str | None,
    tag: str,
    cold: bool,
    dependency_change: bool,
    on_line: Callable[[str], None] | None,
    client: Any,
) -> dict[str, Any]:
    """One row of :func:`measure_builds`: a first build, a source change, a dependency change (if asked)."""
    with tempfile.TemporaryDirectory(prefix="course-measure-") as tmp:
        app = copy_app(Path(tmp) / "app")

        def once(no_cache: bool = False) -> BuildResult:
            return build(
                app,
                dockerfile_text=dockerfile,
                dockerignore_text=ignore,
                tags=[tag],
                no_cache=no_cache,
                on_line=on_line,
                client=client,
            )

        first = once(no_cache=cold)
        touch_source(app, f"source change {time.time()}")
        src = once()
        dep = None
        if dependency_change:
            touch_requirements(app, f"# dependency change {time.time()}")
            dep = once()
    facts = inspect_image(tag, client)
    deps = [
        s
        for s in src.steps
        if ("pip" in s.instruction or "requirements" in s.instruction) and not s.instruction.startswith("FROM")
    ]
    return {
        "image": label,
        "size_mb": facts.size_mb,
        "layers": facts.fs_layers,
        "cold_s": round(first.seconds, 1),
        "source_change_s": round(src.seconds, 1),
        "dependency_change_s": round(dep.seconds, 1) if dep else float("nan"),
        "source_change_vs_cold": round(src.seconds / first.seconds, 3) if first.seconds else float("nan"),
        "deps_cached_on_source_change": bool(deps) and all(s.cached for s in deps),
    }
