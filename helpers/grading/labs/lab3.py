"""How Lab 3 (``source/lab3-security-scan``) is graded: the student's ``Dockerfile`` and ``requirements.txt``.

The student remediates the inherited image by editing two real files in the lab folder. :func:`verdicts`
builds them on the kit's pristine sample app (:func:`helpers.supplychain.remediation.app_context`: ``app/``,
the student's ``requirements.txt`` and the kit's own ``requirements-old.txt``), runs the image until its
HEALTHCHECK decides and ``GET /health`` answers (:func:`helpers.grading.labs.common.check_dockerfile`), scans
it (:func:`helpers.supplychain.scan.scan`) and reads its packages (:func:`helpers.supplychain.sbom.sbom`).
The severity threshold and the scan source are graded settings of the lab's ``grading.yml`` (``graded:``),
read from ``sub.spec``, never from the student's notebook. It runs wherever the environment points: the
grading engine on the grader, the student's engine for ``self_check``; a bad submission is a failed verdict,
never an exception.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from helpers.errors import CourseError
from helpers.grading.facts import GradingSpec, load_spec
from helpers.grading.labs.common import LAB_TIMEOUT, ImageReport, check_dockerfile, submission_tag
from helpers.grading.verdicts import Submission, Verdict
from helpers.paths import course_root
from helpers.supplychain.remediation import app_context
from helpers.supplychain.sbom import sbom
from helpers.supplychain.scan import Finding, ScanResult, scan

__all__ = [
    "LAB3_TAG",
    "LAB3_ASSIGNMENT",
    "CELLS",
    "Remediated",
    "examine",
    "graded_settings",
    "parse_pins",
    "verdicts",
]

#: Tag of the image the grader builds (made unique to the submission by its session).
LAB3_TAG = "course-lab3/sample-api:graded"
#: The assignment whose ``grading.yml`` holds the graded settings.
LAB3_ASSIGNMENT = "lab3-security-scan"
#: The graded settings when ``grading.yml`` does not set them.
DEFAULT_THRESHOLD, DEFAULT_SOURCE = "HIGH", "auto"
#: The graded cells :func:`verdicts` decides.
CELLS = ("no_findings_at_threshold", "os_packages_patched", "still_healthy")
#: OS package ecosystems as the snapshot (``Debian:13``), trivy (``debian``) and grype (``deb``) name them.
_OS_ECOSYSTEMS = {"debian", "deb", "ubuntu", "alpine", "apk"}
#: ``name[extras] == version [; marker] [--hash=...]``: one requirement pinned to one version.
_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]{0,99})(\[[A-Za-z0-9,._ -]{0,200}\])?\s*==\s*([A-Za-z0-9.+!_-]{1,64})")
_MAX_LINES = 500


def graded_settings(spec: GradingSpec | None = None) -> tuple[str, str]:
    """The severity threshold and the scan source Lab 3 is graded with (``grading.yml``, ``graded:``).

    Raises:
        CourseError: The lab's ``grading.yml`` is not valid (only when ``spec`` is None and it is read here).
    """
    spec = spec or load_spec(LAB3_ASSIGNMENT)
    return spec.setting("severity_threshold", DEFAULT_THRESHOLD), spec.setting("scan_source", DEFAULT_SOURCE)


def _norm(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Typing_Extensions`` == ``typing-extensions``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(text: str) -> tuple[dict[str, str], list[str]]:
    """The pins of a ``requirements.txt`` (normalised name -> version) and the lines that pin nothing exactly.

    Comments, blank lines and ``--`` options (``--hash``, ``--index-url``) are skipped; ``>=``, ``~=``, bare
    names, ``-r``, ``-e`` or URLs are listed as not pinned (a scan vouches only for the versions it saw).
    Linear in the text's length.
    """
    pins: dict[str, str] = {}
    loose: list[str] = []
    for raw in text.replace("\\\n", " ").splitlines()[:_MAX_LINES]:
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line or line.startswith("--"):  # a global option (--index-url ...) or a --hash continuation
            continue
        head = line.split(";", 1)[0].split(" --hash", 1)[0].strip()
        m = _PIN.fullmatch(head)
        if m:
            pins[_norm(m.group(1))] = m.group(3)
        else:
            loose.append(line[:80])
    return pins, loose


def _same_version(a: str, b: str) -> bool:
    """PEP 440 equality (``3.20`` == ``3.20.0``), or the same text where one is not a PEP 440 version."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


@dataclass
class Remediated:
    """What the grader saw of the remediated image: built and run, scanned, and its packages."""

    image: ImageReport
    scan: ScanResult | None = None
    scan_error: str = ""
    pypi: dict[str, str] = field(default_factory=dict)
    os_packages: int = 0
    os_ecosystem: str = ""


def examine(dockerfile: str, requirements: str, source: str, client: Any = None) -> Remediated:
    """Build ``dockerfile`` with ``requirements`` on the sample app, run it until healthy, scan it, list its packages.

    Never raises for the student's files: a failed build, run or scan is recorded in the result.
    """
    old = (course_root() / "source" / LAB3_ASSIGNMENT / "requirements-old.txt").read_text()
    ctx = app_context({"requirements.txt": requirements, "requirements-old.txt": old})
    try:
        image = check_dockerfile(
            dockerfile, LAB3_TAG, context=ctx, wait_healthy=True, timeout=LAB_TIMEOUT, client=client
        )
    finally:
        shutil.rmtree(ctx, ignore_errors=True)
    seen = Remediated(image)
    if image.built:
        tag = submission_tag(LAB3_TAG)
        try:
            seen.scan = scan(tag, source=source, client=client)
            bom = sbom(tag, client=client)
        except CourseError as e:
            seen.scan_error = str(e)[-500:]
            return seen
        seen.pypi = {_norm(p.name): p.version for p in bom.packages if p.type == "pypi"}
        seen.os_packages = sum(p.type != "pypi" for p in bom.packages)
        seen.os_ecosystem = bom.os_ecosystem
    return seen


def _not_built(seen: Remediated) -> Verdict:
    """The verdict of every cell when the Dockerfile did not build."""
    lines = [ln for ln in seen.image.error.strip().splitlines() if ln.strip()]
    return Verdict(False, "Your Dockerfile did not build: " + (lines[-1][:300] if lines else "no error text"))


def _findings(found: list[Finding], limit: int = 4) -> str:
    """Short text naming a few findings: ``idna 3.6 PYSEC-2024-60 (fixed in 3.7)``."""
    parts = [
        f"{f.package} {f.installed_version} {f.id}" + (f" (fixed in {f.fixed_version})" if f.fixed_version else "")
        for f in found[:limit]
    ]
    return ", ".join(parts) + (f" and {len(found) - limit} more" if len(found) > limit else "")


def _threshold_verdict(seen: Remediated, requirements: str, threshold: str) -> Verdict:
    """Every requirement pinned with ``==`` and installed at that version; no finding at or above ``threshold``.

    A finding with no published fix does not count (as ``trivy --ignore-unfixed``, ``grype --only-fixed``): no
    Dockerfile can remove it, and trivy rates some of every Debian release's unfixed CVEs HIGH.
    """
    pins, loose = parse_pins(requirements)
    if loose:
        return Verdict(False, f"requirements.txt must pin every package with ==; not pinned: {', '.join(loose[:4])}")
    if not pins:
        return Verdict(False, "requirements.txt pins no package (name==version lines)")
    if not seen.image.built:
        return _not_built(seen)
    if seen.scan is None:
        return Verdict(False, f"the scan failed: {seen.scan_error}")
    off = [(n, v, seen.pypi.get(n, "")) for n, v in pins.items() if not _same_version(seen.pypi.get(n, ""), v)]
    if off:
        n, v, got = off[0]
        return Verdict(
            False,
            f"requirements.txt pins {n}=={v} but the image has {got or 'no ' + n}: "
            "does your Dockerfile install requirements.txt?",
        )
    over = seen.scan.at_or_above(threshold)
    left = [f for f in over if f.fixed_version]  # as `trivy --ignore-unfixed`: no fix yet is a decision to record
    if left:
        return Verdict(False, f"{len(left)} finding(s) at or above {threshold} ({seen.scan.source}): {_findings(left)}")
    unfixed = f" ({len(over)} without a published fix yet)" if over else ""
    said = f"no fixable finding at or above {threshold} ({seen.scan.source}){unfixed}; all {len(pins)} pins installed"
    return Verdict(True, said)


def _is_os(f: Finding) -> bool:
    """True for a finding in an OS package (not a Python distribution)."""
    return f.ecosystem.split(":", 1)[0].lower() in _OS_ECOSYSTEMS


def _os_verdict(seen: Remediated) -> Verdict:
    """The scan saw the OS packages, and none of them has a published fix still waiting to be installed."""
    if not seen.image.built:
        return _not_built(seen)
    if seen.scan is None:
        return Verdict(False, f"the scan failed: {seen.scan_error}")
    if seen.os_packages == 0:
        return Verdict(False, "the scan saw no OS packages: keep a Debian-based image (the lab's base)")
    fixable = [f for f in seen.scan.findings if _is_os(f) and f.fixed_version]
    if fixable:
        names = sorted({f.package for f in fixable})
        return Verdict(False, f"{len(names)} OS package(s) have a published fix not installed: {', '.join(names[:6])}")
    eco = seen.os_ecosystem or "OS"
    return Verdict(True, f"no {eco} package with a published fix left ({seen.os_packages} OS packages scanned)")


def _health_verdict(seen: Remediated) -> Verdict:
    """The image runs, ``GET /health`` answers 200 and its HEALTHCHECK says healthy."""
    rep = seen.image
    if not rep.built:
        return _not_built(seen)
    if rep.run_error:
        return Verdict(False, f"the container did not come up: {rep.run_error.strip().splitlines()[0][:300]}")
    if rep.health_status != 200:
        return Verdict(False, f"GET /health answered {rep.health_status or 'nothing'}, not 200")
    if rep.healthy != "healthy":
        why = "the image has no HEALTHCHECK (keep the one of Dockerfile.old)" if rep.healthy == "none" else rep.healthy
        return Verdict(False, f"the HEALTHCHECK did not report healthy: {why}")
    return Verdict(True, f"healthy, GET /health answered 200 after {rep.seconds_to_ready:.1f} s")


def verdicts(sub: Submission) -> dict[str, Verdict]:
    """grade_id -> Verdict for Lab 3's graded cells, from the lab folder's ``Dockerfile`` and ``requirements.txt``."""
    dockerfile, requirements = sub.text("Dockerfile"), sub.text("requirements.txt")
    missing = [n for n, t in (("Dockerfile", dockerfile), ("requirements.txt", requirements)) if t is None]
    if missing:
        said = f"no {' and no '.join(missing)} in your lab folder (or bigger than 256 KiB)"
        return {cell: Verdict(False, said) for cell in CELLS}
    assert dockerfile is not None and requirements is not None
    threshold, source = graded_settings(sub.spec)
    seen = examine(dockerfile, requirements, source)
    got = {
        "no_findings_at_threshold": _threshold_verdict(seen, requirements, threshold),
        "os_packages_patched": _os_verdict(seen),
    }
    if seen.image.built and not any(v.passed for v in got.values()):  # the old image is healthy too: no free points
        return got | {"still_healthy": Verdict(False, "Remediate first: health counts for a fixed image only.")}
    return got | {"still_healthy": _health_verdict(seen)}
