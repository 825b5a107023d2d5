"""Unit tests for helpers/grading/labs/lab3.py: Lab 3 is graded from the student's files with the grader's settings."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

from helpers.grading import facts
from helpers.grading.facts import GradingSpec, load_spec
from helpers.grading.labs import lab3
from helpers.grading.labs.common import ImageReport
from helpers.grading.verdicts import Submission
from helpers.supplychain.scan import Finding, ScanResult

ROOT = Path(__file__).resolve().parents[4]
LAB = ROOT / "source" / "lab3-security-scan"
NOTEBOOK = LAB / "lab3-security-scan.ipynb"
REFERENCE = ROOT / "tests" / "data" / "labs" / "lab3-security-scan" / "reference"
PINS = "fastapi==0.165.0\nidna==3.20\n"


def _course(tmp_path: Path, graded: str) -> Path:
    folder = tmp_path / "source" / lab3.LAB3_ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "grading.yml").write_text(f"verdicts: [{', '.join(lab3.CELLS)}]\n{graded}")
    return tmp_path


def _finding(severity: str, package: str = "idna", ecosystem: str = "PyPI", fixed: str = "2") -> Finding:
    return Finding(f"X-{severity}-{package}", package, "1", fixed, severity, ecosystem)


def _seen(findings: list[Finding], pypi: dict[str, str] | None = None, healthy: str = "healthy") -> lab3.Remediated:
    image = ImageReport("t", built=True, health_status=200, healthy=healthy, seconds_to_ready=1.5)
    scan = ScanResult("t", "snapshot", findings, packages_scanned=120)
    pins = {"fastapi": "0.165.0", "idna": "3.20"} if pypi is None else pypi
    return lab3.Remediated(image, scan, pypi=pins, os_packages=100, os_ecosystem="Debian:13")


@pytest.fixture
def fake_examine(monkeypatch):
    """verdicts() with its engine work replaced: records the scan source asked for, returns ``seen["result"]``."""
    seen: dict = {"result": _seen([_finding("LOW"), _finding("MEDIUM"), _finding("CRITICAL", "starlette")])}

    def examine(dockerfile, requirements, source, client=None):
        seen["source"] = source
        return seen["result"]

    monkeypatch.setattr(lab3, "examine", examine)
    return seen


def _submission(
    tmp_path: Path, graded: dict[str, str] | None = None, files: dict[str, str] | None = None
) -> Submission:
    folder = tmp_path / "student"
    folder.mkdir(parents=True)
    for name, text in (files if files is not None else {"Dockerfile": "FROM x\n", "requirements.txt": PINS}).items():
        (folder / name).write_text(text)
    spec = GradingSpec(lab3.LAB3_ASSIGNMENT, graded=tuple((graded or {}).items()))
    return Submission(folder, spec)


def test_graded_settings_are_read_from_grading_yml(tmp_path, monkeypatch):
    """Do the threshold and the scan source come from the lab's grading.yml, with defaults when it sets none?"""
    monkeypatch.setattr(facts, "course_root", lambda: _course(tmp_path, "graded: {severity_threshold: MEDIUM}\n"))
    assert lab3.graded_settings() == ("MEDIUM", "auto")
    monkeypatch.setattr(facts, "course_root", lambda: tmp_path / "empty")
    assert lab3.graded_settings() == (lab3.DEFAULT_THRESHOLD, lab3.DEFAULT_SOURCE) == ("HIGH", "auto")


def test_verdicts_use_the_specs_threshold_and_source(tmp_path, fake_examine):
    """Does verdicts() scan with the spec's source and fail on the findings at or above the spec's threshold?"""
    sub = _submission(tmp_path, {"severity_threshold": "MEDIUM", "scan_source": "snapshot"})
    got = lab3.verdicts(sub)
    assert fake_examine["source"] == "snapshot"
    assert not got["no_findings_at_threshold"].passed
    assert "2 finding(s) at or above MEDIUM" in got["no_findings_at_threshold"].said
    assert got["os_packages_patched"].passed and got["still_healthy"].passed


def test_findings_without_a_fix_do_not_fail_but_are_counted(tmp_path, fake_examine):
    """Does a HIGH finding with no published fix (no Dockerfile can remove it) pass, and is it mentioned?"""
    fake_examine["result"] = _seen([_finding("HIGH", "zlib1g", "debian", fixed=""), _finding("LOW")])
    verdict = lab3.verdicts(_submission(tmp_path))["no_findings_at_threshold"]
    assert verdict.passed and "1 without a published fix yet" in verdict.said


def test_a_lenient_notebook_cannot_lower_the_bar(tmp_path, fake_examine):
    """With the threshold at HIGH in the spec, does a CRITICAL finding fail whatever the notebook says?"""
    folder_nb = {"lab3-security-scan.ipynb": json.dumps(_notebook_with('SEVERITY_THRESHOLD = "CRITICAL"\n'))}
    files = {"Dockerfile": "FROM x\n", "requirements.txt": PINS, **folder_nb}
    verdict = lab3.verdicts(_submission(tmp_path, {"severity_threshold": "HIGH"}, files))["no_findings_at_threshold"]
    assert not verdict.passed and "starlette" in verdict.said and "at or above HIGH" in verdict.said


def _notebook_with(source: str) -> dict:
    return {"cells": [{"cell_type": "code", "source": source, "metadata": {}}], "metadata": {}, "nbformat": 4}


@pytest.mark.parametrize(
    ("text", "pins", "loose"),
    [
        (PINS, {"fastapi": "0.165.0", "idna": "3.20"}, []),
        ("# c\n\nTyping_Extensions == 4.16.0  # why\n", {"typing-extensions": "4.16.0"}, []),
        ("uvicorn[standard]==0.54.0 ; python_version >= '3.9' \\\n    --hash=sha256:ab\n", {"uvicorn": "0.54.0"}, []),
        ("--index-url https://pypi.org/simple\nidna==3.20\n", {"idna": "3.20"}, []),
        ("idna>=3.7\nfastapi\n-r other.txt\nidna~=3.7\n", {}, ["idna>=3.7", "fastapi", "-r other.txt", "idna~=3.7"]),
        ("idna==3.*\n", {}, ["idna==3.*"]),
    ],
)
def test_parse_pins(text, pins, loose):
    """Are exact pins read (names normalised) and every looser line listed as not pinned?"""
    assert lab3.parse_pins(text) == (pins, loose)


def test_parse_pins_is_linear_on_hostile_text():
    """Does a huge line of near-pins parse quickly (no backtracking blow-up) and count as not pinned?"""
    pins, loose = lab3.parse_pins("a" * 100 + "[" + "," * 190 + "==" + "1" * 200 + "\n")
    assert pins == {} and len(loose) == 1


def test_unpinned_or_uninstalled_pins_fail_the_threshold_cell(tmp_path, fake_examine):
    """Does `>=` fail the threshold cell even with a clean scan, and so does a pin the image does not have?"""
    fake_examine["result"] = _seen([])
    loose = {"Dockerfile": "FROM x\n", "requirements.txt": "idna>=3.7\n"}
    assert "not pinned: idna>=3.7" in lab3.verdicts(_submission(tmp_path / "a", files=loose))[lab3.CELLS[0]].said
    fake_examine["result"] = _seen([], pypi={"fastapi": "0.165.0", "idna": "3.6"})
    said = lab3.verdicts(_submission(tmp_path / "b"))[lab3.CELLS[0]].said
    assert "pins idna==3.20 but the image has 3.6" in said
    fake_examine["result"] = _seen([])
    assert lab3.verdicts(_submission(tmp_path / "c"))[lab3.CELLS[0]].passed


@pytest.mark.parametrize("ecosystem", ["Debian:12", "Debian:13", "debian", "deb"])
def test_os_findings_with_a_fix_fail_whatever_the_scanner_calls_the_ecosystem(tmp_path, fake_examine, ecosystem):
    """Is an OS finding with a fix caught as the snapshot (Debian:12/13), trivy (debian) and grype (deb) name it?"""
    fake_examine["result"] = _seen([_finding("UNKNOWN", "openssl", ecosystem, fixed="3.0.17-1~deb12u3")])
    verdict = lab3.verdicts(_submission(tmp_path))["os_packages_patched"]
    assert not verdict.passed and "openssl" in verdict.said
    fake_examine["result"] = _seen([_finding("LOW", "glibc", ecosystem, fixed="")])  # no fix published: not counted
    assert lab3.verdicts(_submission(tmp_path / "again"))["os_packages_patched"].passed


def test_health_and_build_failures(tmp_path, fake_examine):
    """Does an image without HEALTHCHECK fail only the health cell, and a failed build every cell with its error?"""
    fake_examine["result"] = _seen([], healthy="none")
    got = lab3.verdicts(_submission(tmp_path / "a"))
    assert [c for c, v in got.items() if not v.passed] == ["still_healthy"] and "no HEALTHCHECK" in got[
        "still_healthy"
    ].said
    fake_examine["result"] = lab3.Remediated(ImageReport("t", error="step 2/9\nERROR: apt-get: not found\n"))
    got = lab3.verdicts(_submission(tmp_path / "b"))
    assert all(not v.passed and "apt-get: not found" in v.said for v in got.values())


def test_missing_files_fail_every_cell_without_building(tmp_path, fake_examine):
    """Does a folder without its Dockerfile fail every cell, naming the file, without asking the engine?"""
    got = lab3.verdicts(_submission(tmp_path, files={"requirements.txt": PINS}))
    assert set(got) == set(lab3.CELLS) and all(not v.passed and "Dockerfile" in v.said for v in got.values())
    assert "source" not in fake_examine


def _cells() -> list:
    return [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]


def test_notebook_shows_the_graders_settings():
    """Do the notebook's SEVERITY_THRESHOLD and SCAN_SOURCE (the student's own look) equal grading.yml's settings?"""
    (params,) = [c for c in _cells() if "parameters" in c.metadata.get("tags", [])]
    values = {
        t.id: ast.literal_eval(node.value)
        for node in ast.parse(params.source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
    }
    assert (values["SEVERITY_THRESHOLD"], values["SCAN_SOURCE"]) == lab3.graded_settings()
    assert params.metadata["nbgrader"]["locked"] is True


def test_graded_cells_are_self_checks_of_the_verdicts_grading_yml_lists():
    """Is each graded cell `self_check("<its grade_id>")` (same points), one per verdict in grading.yml, no query?"""
    graded = {c.metadata["nbgrader"]["grade_id"]: c for c in _cells() if c.metadata.get("nbgrader", {}).get("grade")}
    assert tuple(graded) == lab3.CELLS == load_spec(lab3.LAB3_ASSIGNMENT, root=ROOT).verdicts
    assert {g: c.metadata["nbgrader"]["points"] for g, c in graded.items()} == {
        "no_findings_at_threshold": 4,
        "os_packages_patched": 3,
        "still_healthy": 3,
    }
    for grade_id, cell in graded.items():
        assert cell.source.rstrip().endswith(f'self_check("{grade_id}")') and cell.metadata["nbgrader"]["locked"]
    assert not any("lab3_report" in c.source or "%%writefile" in c.source for c in _cells())


def test_starters_are_not_the_reference():
    """Are the released starters the old files with a TODO header, and the reference kept out of source/?"""
    for name in ("Dockerfile", "requirements.txt"):
        starter = (LAB / name).read_text()
        assert starter.startswith("# TODO") and starter != (REFERENCE / name).read_text()
    assert "idna==3.6" in (LAB / "requirements.txt").read_text()
    assert "apt-get" not in (LAB / "Dockerfile").read_text().split("\nARG", 1)[1]
