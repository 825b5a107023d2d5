"""How Lab 3 (``source/lab3-security-scan``) is graded: the remediated image, built, scanned, run and inventoried.

The graded cells hand over the remediated Dockerfile, the new pinned requirements and the scan source.
:func:`lab3_report` builds them on the sample app's ``app/``, scans the image
(:func:`helpers.supplychain.scan.scan`), waits for its HEALTHCHECK and reads its packages (SBOM); the cells
assert no finding at or above the threshold, Debian fixes applied, the app healthy and the pins installed.
It is a trusted query (``source/lab3-security-scan/grading.yml``): in the grading sandbox the grader answers
it; outside it the cells check the student's own scan instead.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Any

from helpers.errors import CourseError
from helpers.grading.labs.common import build_timeout, submission_tag
from helpers.grading.queries import trusted_query
from helpers.grading.session import current_session
from helpers.images.build import build
from helpers.supplychain.remediation import HealthReport, app_context, check_health
from helpers.supplychain.sbom import sbom
from helpers.supplychain.scan import SOURCES, ScanResult, scan

__all__ = ["LAB3_TAG", "Lab3Report", "lab3_report"]

#: Tag of the image the grader builds.
LAB3_TAG = "course-lab3/sample-api:graded"
_CACHE: dict[tuple[str, str, str], Lab3Report] = {}


@dataclass
class Lab3Report:
    """Lab 3: the remediated image, built, scanned, run until healthy, and its packages."""

    built: bool = False
    error: str = ""
    scan: ScanResult | None = None
    health: HealthReport | None = None
    health_error: str = ""
    pypi: dict[str, str] = field(default_factory=dict)
    os_ecosystem: str = ""


@trusted_query("lab3_report", arity=3)
def lab3_report(dockerfile_text: str, requirements_text: str, source: str = "auto", client: Any = None) -> Lab3Report:
    """Build the remediated Dockerfile with the new pins, scan it, wait for its HEALTHCHECK, read its packages (cached).

    Args:
        dockerfile_text: The remediated Dockerfile.
        requirements_text: The new pinned ``requirements.txt``.
        source: Where the scan's advisories come from, as in :func:`helpers.supplychain.scan.scan`.
        client: docker-py client (connects lazily).

    Returns:
        A :class:`Lab3Report` (build, scan and health problems are recorded in it).

    Raises:
        CourseError: ``source`` is not a scan source.
    """
    if source not in SOURCES:
        raise CourseError(f"Unknown scan source {source!r}.", f"Use one of {', '.join(SOURCES)}.")
    key = (dockerfile_text, requirements_text, source)
    if key not in _CACHE:
        tag = submission_tag(LAB3_TAG)
        rep = Lab3Report()
        ctx = app_context({"requirements.txt": requirements_text, "Dockerfile": dockerfile_text})
        try:
            build(ctx, tags=[tag], timeout=build_timeout(), client=client)
            rep.built = True
        except CourseError as e:
            rep.error = str(e)[-3000:]
        finally:
            shutil.rmtree(ctx, ignore_errors=True)
        if rep.built:
            _inspect_into(rep, tag, source, client)
        _CACHE[key] = rep
    return _CACHE[key]


def _inspect_into(rep: Lab3Report, tag: str, source: str, client: Any) -> None:
    """Scan the built image, check its health and read its packages into ``rep``."""
    rep.scan = scan(tag, source=source, client=client)
    rep.scan.image = LAB3_TAG
    try:
        rep.health = check_health(tag, client=client, sandbox=current_session() is not None)
    except CourseError as e:
        rep.health_error = str(e)[-2000:]
    bom = sbom(tag, client=client)
    rep.pypi = {p.name.lower(): p.version for p in bom.packages if p.type == "pypi"}
    rep.os_ecosystem = bom.os_ecosystem
