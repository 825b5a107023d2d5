"""The sample app (``sample_python_app/``) and its two demonstration images, ``sample-api:naive`` and ``:optimized``.

The app ships no Dockerfile: students write them in Labs 1 and 2. In the course repository later notebooks build
the two images (:func:`sample_image`) from the reference answers (:data:`REFERENCE_FILES`, one copy of each). The
students' copy (:mod:`helpers.kit.studentrepo`) has none: there :func:`sample_image` is the image the student built
from their own Lab 1 or Lab 2 Dockerfile, and :class:`SampleImageMissing` (with :func:`student_build_command`) until
it exists, which :meth:`helpers.kit.mode.CourseMode.image` turns into a skipped demonstration.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import OFFICIAL, base_image, has_image
from helpers.engine.client import get_client
from helpers.errors import CourseError, SetupError
from helpers.images.build import build
from helpers.images.buildmodel import BuildResult
from helpers.images.inspect import inspect_image
from helpers.paths import DATA_DIR, PACKAGE_DIR, course_root

__all__ = [
    "VARIANTS",
    "SAMPLE_REPO",
    "REFERENCE_FILES",
    "STUDENT_FILES",
    "SampleImageMissing",
    "app_dir",
    "reference_path",
    "reference_dockerfile",
    "reference_dockerignore",
    "sample_dockerfile",
    "sample_dockerfile_path",
    "student_build_command",
    "sample_image",
    "build_sample_image",
    "copy_app",
    "touch_source",
    "touch_requirements",
    "measure_builds",
]

DATA = DATA_DIR / "sample_app"
#: Reference variants: "naive" (Lab 1: full base, one stage) and "optimized" (Lab 2).
VARIANTS = ("naive", "optimized")
#: Repository name of the sample image (tags are ``sample-api:<variant>``); ``COURSE_SAMPLE_REPO`` overrides it
#: (the tests of the students' copy use a name no image has, so the engine's own ``sample-api`` images stay out).
SAMPLE_REPO = os.environ.get("COURSE_SAMPLE_REPO") or "sample-api"
_LAB2 = Path("tests/data/labs/lab2-improve-dockerfile/reference")
#: Each variant's reference (Dockerfile, ignore file) in the course repository, its one copy: Lab 1's naive Dockerfile
#: in the kit's data (Lab 2 shows it), Lab 2's answer in the lab's test data (graders' tests read it too; a relative
#: path is under the course root). Neither reaches the students' copy.
REFERENCE_FILES = {
    "naive": (DATA / "naive.Dockerfile", None),
    "optimized": (_LAB2 / "Dockerfile", _LAB2 / "Dockerfile.dockerignore"),
}
#: The student's own Dockerfile of each variant (under the course root; BuildKit reads its ``.dockerignore`` beside it).
STUDENT_FILES = {
    "naive": "release/lab1-build-basics/Dockerfile",
    "optimized": "release/lab2-improve-dockerfile/Dockerfile",
}
_LAB = {"naive": "Lab 1", "optimized": "Lab 2"}


class SampleImageMissing(SetupError):
    """The students' copy has no reference Dockerfile and the student has not built the image yet."""


def app_dir() -> Path:
    """The ``sample_python_app`` folder of the course checkout.

    Raises:
        SetupError: It is missing (an incomplete checkout).
    """
    path = course_root() / "sample_python_app"
    if not (path / "requirements.txt").is_file():
        raise SetupError(f"The sample app is missing at {path}.", "Check out the whole course repository.")
    return path


def _reference(variant: str, which: int = 0) -> Path | None:
    """A reference file of ``variant`` (0: Dockerfile, 1: ignore file) when the course has it."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    path = REFERENCE_FILES[variant][which]
    if path is None:
        return None
    # the kit's own checkout first (a grader's course folder may be elsewhere), then the course root
    found = [path] if path.is_absolute() else [PACKAGE_DIR.parent / path, course_root() / path]
    return next((p for p in found if p.is_file()), None)


def reference_path(variant: str = "optimized") -> Path | None:
    """The reference Dockerfile of ``variant`` in the course repository; None in the students' copy."""
    return _reference(variant)


def student_build_command(variant: str = "optimized", client: Any = None) -> str:
    """The ``docker build`` a student types to make ``sample-api:<variant>`` from their own Lab 1 or Lab 2 file.

    It names the base images this engine has (the official ones, or the kit's stand-ins), else the official ones.
    """
    reference_path(variant)  # checks the name

    def base(kind: str) -> str:
        try:
            return base_image(kind, client)
        except CourseError:  # no engine, or no base image yet: the official name is what the Dockerfile defaults to
            return OFFICIAL[kind]

    args = f"--build-arg BASE_IMAGE={base('full')}"
    if variant == "optimized":
        args = f"--build-arg BASE_IMAGE={base('slim')} --build-arg BUILDER_IMAGE={base('full')}"
    return f"docker build {args} -t {SAMPLE_REPO}:{variant} -f {STUDENT_FILES[variant]} sample_python_app"


def _missing(variant: str, client: Any = None) -> SampleImageMissing:
    return SampleImageMissing(
        f"{SAMPLE_REPO}:{variant} is built from your {_LAB[variant]} Dockerfile; this engine has no such image yet.",
        f"In a terminal at the course folder type `{student_build_command(variant, client)}`, then run the cell again.",
    )


def reference_dockerfile(variant: str = "optimized") -> str:
    """A reference Dockerfile's text ("naive" or "optimized"); :class:`SampleImageMissing` in the students' copy."""
    path = reference_path(variant)
    if path is None:
        raise SampleImageMissing(
            f"This copy of the course has no {_LAB[variant]} reference Dockerfile.",
            f"Your own is {STUDENT_FILES[variant]}; build it with `{student_build_command(variant)}`.",
        )
    return path.read_text()


def reference_dockerignore() -> str:
    """Lab 2's reference ``Dockerfile.dockerignore``; :class:`SampleImageMissing` in the students' copy."""
    path = _reference("optimized", 1)
    if path is None:
        raise SampleImageMissing("This copy of the course has no Lab 2 reference ignore file.", "Write your own.")
    return path.read_text()


def sample_dockerfile_path(variant: str = "optimized") -> Path:
    """The Dockerfile of ``variant`` to build: the reference in the course repository, else the student's own
    ``release/`` file (:data:`STUDENT_FILES`; it may not exist)."""
    return reference_path(variant) or course_root() / STUDENT_FILES[variant]


def sample_dockerfile(variant: str = "optimized") -> tuple[Path, str]:
    """The Dockerfile of ``variant`` to read: (path, text) of the reference, or of the student's own Lab file.

    Raises:
        SampleImageMissing: Neither exists.
    """
    path = sample_dockerfile_path(variant)
    if not path.is_file():
        raise _missing(variant)
    return path, path.read_text()


def sample_image(variant: str = "optimized", client: Any = None) -> str:
    """The reference of ``sample-api:<variant>`` on the engine, ready to use.

    In the course repository it is built from the reference (:func:`build_sample_image`, from the cache when
    unchanged); in the students' copy it is the image the student built (:func:`student_build_command`).

    Raises:
        SampleImageMissing: The students' copy and the student has not built it yet.
    """
    if reference_path(variant) is not None:
        return build_sample_image(variant, client=client).tags[0]
    tag = f"{SAMPLE_REPO}:{variant}"
    if has_image(get_client(client), tag):
        return tag
    raise _missing(variant, client)


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

    Raises:
        SampleImageMissing: The students' copy (no reference); use :func:`sample_image` there.
    """
    text = reference_dockerfile(variant)  # raises in the students' copy: see sample_image
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
