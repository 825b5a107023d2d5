"""Lab 3 support: a build context of the sample app with given pins, and a health check run.

The lab builds the same app twice (old pins on an unpatched base; new pins with security
updates), scans both, and proves the remediated image still works.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import has_image
from helpers.engine.client import get_client, kit_labels
from helpers.errors import HealthTimeout
from helpers.images.build import build
from helpers.images.health import HealthState, log_tail, wait_health
from helpers.images.run import SANDBOX_LIMITS
from helpers.paths import course_root
from helpers.supplychain.bom import Package, Sbom
from helpers.supplychain.scan import pick_source

__all__ = [
    "app_context",
    "app_requirements",
    "HealthReport",
    "check_health",
    "requirements_sbom",
    "build_lab3_old",
    "built_here",
    "scanner_command",
    "LAB3_OLD_TAG",
]

#: The tag of Lab 3's inherited image (the lab builds it under the same name).
LAB3_OLD_TAG = "course-lab3/sample-api:old"


def app_context(files: Mapping[str, str], directory: str | os.PathLike[str] | None = None) -> Path:
    """A build context with the sample app's ``app/`` package plus ``files`` (name -> text).

    Args:
        files: Extra files, e.g. ``{"requirements.txt": "...", "Dockerfile": "..."}``.
        directory: Where to make it (a new temporary directory when None; never an existing one's files).
    """
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="course-lab3-"))
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "app").exists():
        shutil.copytree(
            course_root() / "sample_python_app" / "app", root / "app", ignore=shutil.ignore_patterns("__pycache__")
        )
    for name, text in files.items():
        (root / name).write_text(text)
    return root


@dataclass
class HealthReport:
    """Outcome of running an image until its HEALTHCHECK decides."""

    image: str
    status: str
    seconds: float
    log_tail: str

    @property
    def healthy(self) -> bool:
        return self.status == "healthy"


def check_health(image: str, timeout: float = 60, client: Any = None, sandbox: bool = False) -> HealthReport:
    """Run ``image`` (no published ports), wait for its HEALTHCHECK verdict, remove the container.

    ``sandbox=True`` applies :data:`helpers.images.run.SANDBOX_LIMITS` (for an image built from a submission).

    Raises:
        HealthTimeout: No verdict within ``timeout`` seconds, or the image has no HEALTHCHECK.
    """
    engine = get_client(client)

    c = engine.containers.run(image, detach=True, labels=kit_labels("lab"), **(SANDBOX_LIMITS if sandbox else {}))
    try:
        wait = wait_health(c, timeout, until=lambda s, _t: s.health != "starting" or not s.running, poll=0.5)
        state: HealthState = wait.state
        if state.running and state.health == "none":
            raise HealthTimeout(
                f"{image} has no HEALTHCHECK.",
                container=c.short_id,
                hint="Add a HEALTHCHECK instruction to the Dockerfile.",
            )
        tail = log_tail(c, 8)  # byte-capped too: one line can be endless
        status = state.health if state.health in ("healthy", "unhealthy") else "exited"
        if status == "exited" and state.running:
            raise HealthTimeout(
                f"{image} gave no health verdict within {timeout:.0f} s.", container=c.short_id, log_tail=tail
            )
        return HealthReport(image, status, wait.seconds, tail)
    finally:
        c.remove(force=True)


def requirements_sbom(text: str, name: str = "requirements.txt") -> Any:
    """A bill of materials made from pinned ``name==version`` lines (no image needed)."""

    pkgs = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            n, v = (s.strip() for s in line.split("==", 1))
            pkgs.append(Package(n.split("[")[0], v.split(";")[0].strip(), "pypi", location=name))
    return Sbom(name, {}, pkgs)


def app_requirements(exclude: tuple[str, ...] = ("psycopg2",)) -> str:
    """The sample app's pinned requirements.txt, without ``exclude`` (psycopg2 needs a compiler)."""
    text = (course_root() / "sample_python_app" / "requirements.txt").read_text()
    keep = [ln for ln in text.splitlines() if not any(ln.strip().lower().startswith(x + "==") for x in exclude)]
    return "\n".join(keep) + "\n"


def build_lab3_old(client: Any = None, tag: str = LAB3_OLD_TAG) -> str:
    """Build Lab 3's inherited image (``source/lab3-security-scan/Dockerfile.old``, old pins); its tag.

    The prebuilt catalog entry ``lab3-old``: students without an engine scan its archive.

    Raises:
        BuildError: The build failed.
    """

    lab = course_root() / "source" / "lab3-security-scan"
    ctx = app_context({"requirements-old.txt": (lab / "requirements-old.txt").read_text()})
    try:
        build(ctx, dockerfile=lab / "Dockerfile.old", tags=[tag], client=client)
    finally:
        shutil.rmtree(ctx, ignore_errors=True)
    return tag


def built_here(tag: str, client: Any = None) -> bool:
    """True when the engine has the image ``tag`` (e.g. the student's own ``docker build`` made it)."""
    return has_image(get_client(client), tag)


def scanner_command(source: str = "auto", archive: bool = False) -> str:
    """The scanner command line a student types here, without its target.

    ``trivy image`` or ``grype`` where installed (and ``source`` allows it), else the kit's own scanner
    (``python -m helpers scan``: the same table, from the OSV API or the offline snapshot).

    Args:
        source: The advisory source (:data:`helpers.supplychain.scan.SOURCES`).
        archive: The target is a ``docker save`` archive, not an image on the engine.
    """
    chosen = pick_source(source)
    chosen = "snapshot" if archive and chosen == "grype" else chosen  # grype reads archives as docker-archive:PATH
    if chosen == "trivy":
        return "trivy image --input" if archive else "trivy image"
    if chosen == "grype":
        return "grype"
    return f"{shlex.quote(sys.executable)} -m helpers scan --source {chosen}"
