"""Matching a bill of materials, tool output parsing, tool failures, comparison."""

import datetime as dt
import json
import os
import stat

import pytest

from helpers.errors import CourseError, ScanToolError
from helpers.supplychain.advisories import AdvisoryDB, parse_record
from helpers.supplychain.bom import Package, Sbom
from helpers.supplychain.scan import (
    Finding,
    ScanResult,
    compare_scans,
    parse_grype,
    parse_trivy,
    pick_source,
    scan,
    scan_sbom,
)


def _db():
    recs = [
        parse_record(
            {
                "id": "PYSEC-2024-60",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "idna"},
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0.1"}, {"fixed": "3.7"}]}],
                    }
                ],
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
                "database_specific": {"source": "test"},
            }
        ),
        parse_record(
            {
                "id": "DEBIAN-CVE-2024-22365",
                "affected": [
                    {
                        "package": {"ecosystem": "Debian:12", "name": "pam"},
                        "ranges": [
                            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.5.2-6+deb12u3"}]}
                        ],
                    }
                ],
            }
        ),
    ]
    return AdvisoryDB(recs, dt.date(2026, 1, 1), "test")


def _bom(idna="3.6", pam="1.5.2-6+deb12u2"):
    return Sbom(
        "img",
        {"id": "debian", "version_id": "12"},
        [
            Package("idna", idna, "pypi", layer=2, created_by="RUN pip install"),
            Package("libpam0g", pam, "deb", "pam", pam, layer=0),
            Package("libpam-runtime", pam, "deb", "pam", pam, layer=0),
        ],
    )


def test_findings_match_by_ecosystem_and_source_package():
    """Are the PyPI dist and both binary packages of the pam source found, with layers and fixes?"""
    res = scan_sbom(_bom(), _db())
    got = sorted((f.id, f.package, f.fixed_version, f.severity, f.layer) for f in res.findings)
    assert got == [
        ("DEBIAN-CVE-2024-22365", "libpam-runtime", "1.5.2-6+deb12u3", "UNKNOWN", 0),
        ("DEBIAN-CVE-2024-22365", "libpam0g", "1.5.2-6+deb12u3", "UNKNOWN", 0),
        ("PYSEC-2024-60", "idna", "3.7", "HIGH", 2),
    ]
    assert res.counts()["HIGH"] == 1 and len(res.at_or_above("HIGH")) == 1 and len(res.at_or_above("unknown")) == 3


def test_describe_states_source_and_age():
    """Does the result say it came from the snapshot and how old it is?"""
    res = scan_sbom(_bom(), _db())
    assert "snapshot taken 2026-01-01" in res.describe() and "days old" in res.describe()


def test_fixed_versions_are_clean_and_comparison():
    """After upgrading, is everything 'fixed' in the comparison and nothing left?"""
    before, after = scan_sbom(_bom(), _db()), scan_sbom(_bom("3.7", "1.5.2-6+deb12u3"), _db())
    assert after.findings == []
    diff = compare_scans(before, after)
    assert set(diff.status) == {"fixed"} and len(diff) == 3


def test_parse_trivy_and_grype():
    """Are trivy's and grype's JSON read into the same findings?"""
    trivy = {
        "Results": [
            {
                "Type": "python-pkg",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2024-3651",
                        "PkgName": "idna",
                        "InstalledVersion": "3.6",
                        "FixedVersion": "3.7",
                        "Severity": "MEDIUM",
                    }
                ],
            },
            {"Type": "debian"},
        ]
    }
    grype = {
        "matches": [
            {
                "vulnerability": {"id": "GHSA-jjg7-2v4v-x38h", "severity": "Moderate", "fix": {"versions": ["3.7"]}},
                "artifact": {"name": "idna", "version": "3.6", "type": "python"},
            }
        ]
    }
    t, g = parse_trivy(trivy)[0], parse_grype(grype)[0]
    assert (t.package, t.installed_version, t.fixed_version, t.severity) == ("idna", "3.6", "3.7", "MEDIUM")
    assert (g.package, g.fixed_version, g.severity) == ("idna", "3.7", "MEDIUM")
    with pytest.raises(ScanToolError):
        parse_trivy({"Results": [{"Vulnerabilities": [{"nope": 1}]}]})


def _fake_tool(tmp_path, monkeypatch, name, script):
    exe = tmp_path / name
    exe.write_text('#!/bin/sh\ncase "$1" in --version|version) echo "Version: 0.0-fake"; exit 0;; esac\n' + script)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


def test_crashing_scanner_gives_one_clear_error(tmp_path, monkeypatch):
    """Does a trivy that crashes become one ScanToolError with its last words and a hint?"""
    _fake_tool(tmp_path, monkeypatch, "trivy", "echo 'panic: runtime error' >&2; exit 2\n")
    assert pick_source() == "trivy"
    with pytest.raises(ScanToolError, match="panic: runtime error") as e:
        scan("some/image:1")
    assert "snapshot" in e.value.hint


def test_scanner_printing_garbage(tmp_path, monkeypatch):
    """Is non-JSON output from grype reported as such?"""
    monkeypatch.setenv("PATH", str(tmp_path))  # no trivy on this PATH
    _fake_tool(tmp_path, monkeypatch, "grype", "echo 'not json'\n")
    with pytest.raises(ScanToolError, match="not JSON"):
        scan("some/image:1", source="grype")


def test_working_fake_trivy(tmp_path, monkeypatch):
    """Is a working trivy's output used, and the source named 'trivy'?"""
    _fake_tool(
        tmp_path,
        monkeypatch,
        "trivy",
        "echo '"
        + json.dumps(
            {
                "Results": [
                    {
                        "Type": "debian",
                        "Vulnerabilities": [
                            {"VulnerabilityID": "CVE-1", "PkgName": "x", "InstalledVersion": "1", "Severity": "HIGH"}
                        ],
                    }
                ]
            }
        )
        + "'\n",
    )
    res = scan("some/image:1")
    assert res.source == "trivy" and res.findings[0].id == "CVE-1" and "live" in res.describe()


def test_unknown_source():
    """Is a misspelt source refused with the list of valid ones?"""
    with pytest.raises(CourseError, match="snapshot"):
        pick_source("trivvy")


def test_to_frame_sorted_by_severity():
    """Are the most severe findings first in the table?"""
    res = ScanResult("i", "snapshot", [Finding("a", "p", "1", "2", "LOW"), Finding("b", "q", "1", "2", "CRITICAL")])
    assert list(res.to_frame()["severity"]) == ["CRITICAL", "LOW"]


def test_auto_never_asks_the_network_in_ci(monkeypatch, tmp_path):
    """With CI set and no scanner installed, does "auto" pick the snapshot without probing the OSV API?"""
    import helpers.supplychain.scan as scan_mod

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(scan_mod, "osv_api_reachable", lambda: pytest.fail("the OSV API was probed"))
    assert pick_source() == "snapshot"
