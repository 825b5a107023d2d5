"""The students' copy of the course: released labs, lessons, the app without Dockerfiles, the kit, no answers.

``make student-repo DEST=...`` (``python -m helpers student-repo DEST``) writes it into an empty folder,
ready to push as a GitHub template or Classroom starter repository. It is built from an allow-list (so a
file added to the course later stays out until named here) and never reads ``source/`` or ``tests/``.
Lab answers the kit keeps for its own demonstrations (:data:`ANSWER_FILES`) are left out; the notebooks that
show the sample app's images then use the ones the student builds from their own Lab 1 and Lab 2 Dockerfiles.
"""

from __future__ import annotations

import fnmatch
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from helpers.errors import CourseError
from helpers.paths import course_root

__all__ = ["ANSWER_FILES", "INCLUDED", "StudentRepo", "build_student_repo", "student_makefile"]

#: Folders and files copied (relative to the course root). Never ``source/``, ``tests/`` or ``.github/``
#: (``.github/workflows/sample-app.yml`` is Lab 5's worked answer).
INCLUDED = (
    "release",
    "notebooks",
    "sample_python_app",
    "helpers",
    ".devcontainer",
    "pyproject.toml",
    "environment.yml",
    "nbgrader_config.py",
    "LICENSE",
    ".gitignore",
    "scripts/bootstrap.sh",
    "scripts/wait_for_engine.sh",
)
#: Lab answers inside ``helpers/``: Lab 1's naive Dockerfile (the kit's ``sample-api:naive``; Lab 2's reference
#: answer is test data, outside ``helpers/``). In the copy the notebooks use the images the student builds from
#: their own Lab 1 and Lab 2 Dockerfiles (:func:`helpers.kit.sampleapp.sample_image`).
ANSWER_FILES = ("helpers/data/sample_app/naive.Dockerfile",)
#: Never copied, wherever they are: instructor settings, caches, and any Dockerfile of the sample app.
_EXCLUDED_NAMES = ("grading.yml", "__pycache__", ".ipynb_checkpoints", "*.pyc", ".pytest_cache", "*.egg-info")
_APP_DOCKERFILES = ("Dockerfile", "*.Dockerfile", "Dockerfile.*", "Containerfile", ".dockerignore", "compose*.y*ml")
#: The student README, copied as README.md.
README = "docs/STUDENT_README.md"


@dataclass
class StudentRepo:
    """What :func:`build_student_repo` wrote."""

    dest: Path
    files: list[str] = field(default_factory=list)

    def text(self) -> str:
        """A short summary for the command line."""
        top = sorted({f.split("/", 1)[0] for f in self.files})
        return f"{len(self.files)} files in {self.dest}: {', '.join(top)}"


def student_makefile() -> str:
    """The students' Makefile: set-up and JupyterLab only (no test, release or grading targets)."""
    return (
        "# Docker for CI/CD practitioners: the students' copy.\n"
        "#   make lab   set everything up (Python env, Docker Engine, base images, registry) and open JupyterLab\n"
        "PYTHON ?=\nVENV ?= .venv\nPY := $(VENV)/bin/python\n"
        "export PATH := $(abspath $(VENV))/bin:$(PATH)\nexport PYTHON VENV\n\n"
        ".PHONY: help setup env lab\n\n"
        "help:\n"
        '\t@echo "make lab    - set up (Python env, Docker Engine, base images, registry) and start JupyterLab"\n'
        '\t@echo "make env    - set up without starting JupyterLab"\n\n'
        "setup:\n\t@scripts/bootstrap.sh\n\n"
        "env: setup\n\t@$(PY) -m helpers env up --vm-tools\n\n"
        "lab: env\n\t@$(PY) -m helpers lab\n"
    )


def _skipped(rel: str) -> bool:
    """Is this path (relative to the course root, '/'-separated) left out of the students' copy?"""
    parts = rel.split("/")
    if rel in ANSWER_FILES or any(fnmatch.fnmatch(p, pat) for p in parts for pat in _EXCLUDED_NAMES):
        return True
    return parts[0] == "sample_python_app" and any(fnmatch.fnmatch(parts[-1], pat) for pat in _APP_DOCKERFILES)


def _sources(root: Path) -> list[str]:
    """Every file to copy, relative to ``root``, sorted."""
    found: list[str] = []
    for item in INCLUDED:
        path = root / item
        if path.is_file():
            found.append(item)
        elif path.is_dir():
            found.extend(p.relative_to(root).as_posix() for p in path.rglob("*") if p.is_file())
        else:
            raise CourseError(f"The course has no {item}.", "Build the students' copy from a complete checkout.")
    return sorted(f for f in found if not _skipped(f))


def _check_dest(dest: Path, root: Path) -> None:
    if dest == root or root in dest.parents:
        raise CourseError(
            f"{dest} is inside the course checkout.", "Choose a folder outside it, e.g. DEST=../students."
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise CourseError(
            f"{dest} exists and is not an empty folder.", "Choose a new folder, or remove this one first."
        )


def build_student_repo(dest: str | Path, root: str | Path | None = None) -> StudentRepo:
    """Write the students' copy of the course into ``dest`` (a new or empty folder).

    Raises:
        CourseError: ``dest`` is not empty or is inside the checkout, or a listed part is missing.
    """
    root = Path(root or course_root()).resolve()
    dest = Path(dest).resolve()
    _check_dest(dest, root)
    files = _sources(root)
    dest.mkdir(parents=True, exist_ok=True)
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    (dest / "README.md").write_text((root / README).read_text())
    (dest / "Makefile").write_text(student_makefile())
    return StudentRepo(dest, [*files, "README.md", "Makefile"])
