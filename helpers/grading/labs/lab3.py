"""How Lab 3 (``source/lab3-security-scan``) is graded: the remediated image, built, scanned, run and inventoried.

The graded cells hand over the remediated Dockerfile and the new pinned requirements, nothing else.
:func:`lab3_report` builds them on the sample app's ``app/``, scans the image
(:func:`helpers.supplychain.scan.scan`), lists the findings at or above the severity threshold, waits for its
HEALTHCHECK and reads its packages (SBOM); the cells assert no finding at or above the threshold, Debian fixes
applied, the app healthy and the pins installed. The threshold and the scan source are graded settings: they
come from ``source/lab3-security-scan/grading.yml`` (``graded:``, :func:`graded_settings`), read where the
query runs, never from the student's notebook. It is a trusted query: in the grading sandbox the grader
answers it; outside it the cells check the student's own scan instead.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Any

from helpers.errors import CourseError
from helpers.grading.facts import load_spec
from helpers.grading.labs.common import build_timeout, submission_tag
from helpers.grading.queries import trusted_query
from helpers.grading.session import current_session
from helpers.images.build import build
from helpers.supplychain.remediation import HealthReport, app_context, check_health
from helpers.supplychain.sbom import sbom
from helpers.supplychain.scan import Finding, ScanResult, scan

__all__ = ["LAB3_TAG", "LAB3_ASSIGNMENT", "Lab3Report", "lab3_report", "graded_settings"]

#: Tag of the image the grader builds.
LAB3_TAG = "course-lab3/sample-api:graded"
#: The assignment whose ``grading.yml`` holds the graded settings.
LAB3_ASSIGNMENT = "lab3-security-scan"
#: The graded settings when ``grading.yml`` does not set them.
DEFAULT_THRESHOLD, DEFAULT_SOURCE = "HIGH", "auto"
_CACHE: dict[tuple[str, str, str, str], Lab3Report] = {}


def graded_settings() -> tuple[str, str]:
    """The severity threshold and the scan source Lab 3 is graded with (its ``grading.yml``, ``graded:``).

    Raises:
        CourseError: The lab's ``grading.yml`` is not valid.
    """
    spec = load_spec(LAB3_ASSIGNMENT)
    return (
        spec.setting("severity_threshold", DEFAULT_THRESHOLD),
        spec.setting("scan_source", DEFAULT_SOURCE),
    )


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
    threshold: str = ""
    scan_source: str = ""
    over_threshold: list[Finding] = field(default_factory=list)


@trusted_query("lab3_report", arity=2)
def lab3_report(dockerfile_text: str, requirements_text: str, *, client: Any = None) -> Lab3Report:
    """Build the remediated Dockerfile with the new pins, scan it, wait for its HEALTHCHECK, read its packages (cached).

    The scan source and the severity threshold are the lab's graded settings (:func:`graded_settings`),
    never arguments: the student's notebook cannot choose what it is graded against.

    Args:
        dockerfile_text: The remediated Dockerfile.
        requirements_text: The new pinned ``requirements.txt``.
        client: docker-py client (connects lazily).

    Returns:
        A :class:`Lab3Report` (build, scan and health problems are recorded in it); ``over_threshold`` lists
        the findings at or above ``threshold``.

    Raises:
        CourseError: The lab's ``grading.yml`` is not valid.
    """
    threshold, source = graded_settings()
    key = (dockerfile_text, requirements_text, source, threshold)
    if key not in _CACHE:
        tag = submission_tag(LAB3_TAG)
        rep = Lab3Report(threshold=threshold, scan_source=source)
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
    rep.over_threshold = rep.scan.at_or_above(rep.threshold)
    try:
        rep.health = check_health(tag, client=client, sandbox=current_session() is not None)
    except CourseError as e:
        rep.health_error = str(e)[-2000:]
    bom = sbom(tag, client=client)
    rep.pypi = {p.name.lower(): p.version for p in bom.packages if p.type == "pypi"}
    rep.os_ecosystem = bom.os_ecosystem
