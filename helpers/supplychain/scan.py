"""Vulnerability scanning: trivy or grype when installed, else OSV (API or offline snapshot).

Every result says which source produced it and, for the snapshot, how old the snapshot is:
a scan is only as good as its advisory data.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.tools import find_tool, require_tool
from helpers.errors import CourseError, ScanToolError
from helpers.supplychain.advisories import AdvisoryDB, load_snapshot, osv_api_query, osv_api_reachable
from helpers.supplychain.bom import Sbom
from helpers.supplychain.sbom import sbom
from helpers.supplychain.severity import SEVERITIES

__all__ = [
    "Finding",
    "ScanResult",
    "scan",
    "scan_image",
    "scan_sbom",
    "compare_scans",
    "pick_source",
    "parse_trivy",
    "parse_grype",
]

SOURCES = ("auto", "trivy", "grype", "osv-api", "snapshot")


@dataclass
class Finding:
    """One vulnerable package.

    Attributes:
        id: Advisory id (PYSEC-..., DEBIAN-CVE-..., CVE-..., GHSA-...).
        package: Installed package name.
        installed_version: Its version.
        fixed_version: First fixed version ("" when none is known).
        severity: UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL.
        ecosystem: "PyPI", "Debian:12", ...
        layer: Index of the layer that installed the package (-1 when unknown).
        created_by: The instruction of that layer.
        aliases: Other ids of the same advisory.
    """

    id: str
    package: str
    installed_version: str
    fixed_version: str
    severity: str
    ecosystem: str = ""
    layer: int = -1
    created_by: str = ""
    aliases: list[str] = field(default_factory=list)
    summary: str = ""


@dataclass
class ScanResult:
    """What a scan found and where its data came from."""

    image: str
    source: str
    findings: list[Finding]
    snapshot_taken: str = ""
    snapshot_age_days: int | None = None
    packages_scanned: int = 0

    def describe(self) -> str:
        """One line: the data source and, for the snapshot, its age."""
        if self.source == "snapshot":
            return (
                f"advisory source: offline OSV snapshot taken {self.snapshot_taken} "
                f"({self.snapshot_age_days} days old): newer advisories are not in it"
            )
        return f"advisory source: {self.source} (live data)"

    def counts(self) -> dict[str, int]:
        """Number of findings per severity, every severity present (0 when none)."""
        out = {s: 0 for s in SEVERITIES}
        for f in self.findings:
            out[f.severity] = out.get(f.severity, 0) + 1
        return out

    def at_or_above(self, severity: str) -> list[Finding]:
        """Findings whose severity ranks at or above ``severity``."""
        rank = SEVERITIES.index(severity.upper())
        return [f for f in self.findings if SEVERITIES.index(f.severity) >= rank]

    def to_frame(self) -> Any:
        import pandas as pd

        cols = list(Finding.__dataclass_fields__)
        df = pd.DataFrame([asdict(f) for f in self.findings], columns=cols)
        df["rank"] = df["severity"].map(SEVERITIES.index)
        return df.sort_values(["rank", "package"], ascending=[False, True]).drop(columns="rank").reset_index(drop=True)

    def to_json(self) -> str:
        return json.dumps(
            {
                "image": self.image,
                "source": self.source,
                "snapshot_taken": self.snapshot_taken,
                "snapshot_age_days": self.snapshot_age_days,
                "packages_scanned": self.packages_scanned,
                "findings": [asdict(f) for f in self.findings],
            },
            indent=2,
        )


def pick_source(requested: str = "auto") -> str:
    """The advisory source to use: the requested one, or the best one available.

    "auto" picks trivy, then grype (when installed), then the OSV API (when it answers; never
    asked in CI or with ``COURSE_OFFLINE=1``), then the offline snapshot.
    """
    if requested not in SOURCES:
        raise CourseError(f"Unknown scan source {requested!r}.", f"Use one of: {', '.join(SOURCES)}.")
    if requested != "auto":
        return requested

    for tool in ("trivy", "grype"):
        if find_tool(tool):
            return tool
    if _osv_allowed() and osv_api_reachable():
        return "osv-api"
    return "snapshot"


def _osv_allowed() -> bool:
    """Whether "auto" may ask the OSV API: not in CI and not with ``COURSE_OFFLINE=1`` (no network beyond builds)."""
    return os.environ.get("COURSE_OFFLINE") != "1" and not os.environ.get("CI")


def scan_sbom(bom: Sbom, db: AdvisoryDB, source: str = "snapshot") -> ScanResult:
    """Match a bill of materials against a set of advisories."""
    findings = []
    for p in bom.packages:
        if p.type == "pypi":
            eco, name, ver = "PyPI", p.name, p.version
        else:
            eco, name, ver = bom.os_ecosystem, p.source or p.name, p.source_version or p.version
        if not eco:
            continue
        for adv, fixed in db.lookup(eco, name, ver):
            findings.append(
                Finding(
                    adv.id, p.name, p.version, fixed, adv.severity, eco, p.layer, p.created_by, adv.aliases, adv.summary
                )
            )
    taken = db.taken.isoformat() if db.taken else ""
    return ScanResult(bom.image, source, findings, taken, db.age_days(), len(bom.packages))


def scan(
    image: str | os.PathLike[str],
    source: str = "auto",
    client: Any = None,
    snapshot_dir: str | os.PathLike[str] | None = None,
) -> ScanResult:
    """Scan an image on the engine, or an image archive, for known vulnerabilities.

    Args:
        image: Image reference or path of a ``docker save`` archive.
        source: "auto" (trivy, grype, OSV API, snapshot: the first that works here), or one of them.
        client: docker-py client.
        snapshot_dir: Another offline snapshot folder (default: the kit's).

    Raises:
        ScanToolError: trivy/grype crashed or printed something unreadable.
        AdvisoryError: An advisory file is malformed, or the OSV API failed.
        ImageNotFound, NotAnImageArchive, EngineUnavailable: The image cannot be read.
    """
    chosen = pick_source(source)
    if chosen in ("trivy", "grype"):
        return _run_tool(chosen, str(image))
    bom = sbom(image, client=client)
    if chosen == "osv-api":
        triples = {
            ("PyPI", p.name, p.version) if p.type == "pypi" else (bom.os_ecosystem, p.source, p.source_version)
            for p in bom.packages
        }
        return scan_sbom(bom, osv_api_query(t for t in triples if t[0]), "osv-api")
    return scan_sbom(bom, load_snapshot(snapshot_dir), "snapshot")


#: The same function under a name that does not clash with the module (``from helpers import scan_image``).
scan_image = scan


def _run_tool(tool: str, image: str) -> ScanResult:

    exe = require_tool(tool).path
    archive = Path(image).is_file()
    if tool == "trivy":
        cmd = [exe, "image", "--format", "json", "--quiet"] + (["--input", image] if archive else [image])
    else:
        cmd = [exe, f"docker-archive:{image}" if archive else image, "-o", "json", "-q"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ScanToolError(tool, str(e)) from e
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ScanToolError(tool, f"exit code {proc.returncode}: " + " | ".join(tail))
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise ScanToolError(tool, "its output is not JSON") from e
    findings = parse_trivy(data) if tool == "trivy" else parse_grype(data)
    return ScanResult(image, tool, findings)


def _sev(value: Any) -> str:
    s = str(value or "UNKNOWN").upper()
    s = {"MODERATE": "MEDIUM", "NEGLIGIBLE": "LOW"}.get(s, s)
    return s if s in SEVERITIES else "UNKNOWN"


def parse_trivy(data: dict[str, Any]) -> list[Finding]:
    """Findings from ``trivy image --format json`` output."""
    try:
        return [
            Finding(
                v["VulnerabilityID"],
                v["PkgName"],
                v.get("InstalledVersion", ""),
                v.get("FixedVersion", ""),
                _sev(v.get("Severity")),
                r.get("Type", ""),
                summary=str(v.get("Title", ""))[:200],
            )
            for r in data.get("Results") or []
            for v in r.get("Vulnerabilities") or []
        ]
    except (KeyError, TypeError, AttributeError) as e:
        raise ScanToolError("trivy", f"unexpected JSON ({e})") from e


def parse_grype(data: dict[str, Any]) -> list[Finding]:
    """Findings from ``grype -o json`` output."""
    try:
        out = []
        for m in data.get("matches") or []:
            v, a = m["vulnerability"], m["artifact"]
            fixed = ", ".join((v.get("fix") or {}).get("versions") or [])
            out.append(
                Finding(
                    v["id"],
                    a["name"],
                    a.get("version", ""),
                    fixed,
                    _sev(v.get("severity")),
                    a.get("type", ""),
                    summary=str(v.get("description", ""))[:200],
                )
            )
        return out
    except (KeyError, TypeError, AttributeError) as e:
        raise ScanToolError("grype", f"unexpected JSON ({e})") from e


def compare_scans(before: ScanResult, after: ScanResult) -> Any:
    """A DataFrame of (id, package, severity, before version, after version, status) across two scans.

    status is "fixed" (gone after), "remaining" or "new".
    """
    import pandas as pd

    b = {(f.id, f.package): f for f in before.findings}
    a = {(f.id, f.package): f for f in after.findings}
    rows = []
    for key in sorted(set(b) | set(a)):
        fb, fa = b.get(key), a.get(key)
        f = fa or fb
        assert f is not None
        status = "remaining" if fb and fa else ("fixed" if fb else "new")
        rows.append(
            {
                "id": key[0],
                "package": key[1],
                "severity": f.severity,
                "before": fb.installed_version if fb else "",
                "after": fa.installed_version if fa else "",
                "fixed_version": f.fixed_version,
                "status": status,
            }
        )
    return pd.DataFrame(rows, columns=["id", "package", "severity", "before", "after", "fixed_version", "status"])
