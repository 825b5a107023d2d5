"""Unit tests for helpers/grading/labs/lab3.py: Lab 3 is graded with the grader's settings, never the notebook's."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from helpers.grading import facts, queries
from helpers.grading.labs import lab3
from helpers.grading.queries import GradingRefused
from helpers.grading.session import TrustedSession
from helpers.supplychain.scan import Finding, ScanResult

ROOT = Path(__file__).resolve().parents[4]
NOTEBOOK = ROOT / "source" / "lab3-security-scan" / "lab3-security-scan.ipynb"


def _course(tmp_path: Path, graded: str) -> Path:
    folder = tmp_path / "source" / lab3.LAB3_ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "grading.yml").write_text(f"queries: [lab3_report]\nrounds: 2\n{graded}")
    return tmp_path


def _finding(severity: str, package: str = "idna") -> Finding:
    return Finding(
        id=f"X-{severity}",
        package=package,
        installed_version="1",
        fixed_version="2",
        severity=severity,
        ecosystem="PyPI",
    )


@pytest.fixture
def fake_engine(monkeypatch):
    """lab3_report with its build, scan, health check and SBOM replaced: records the scan source it used."""
    seen: dict[str, str] = {}

    def fake_scan(tag, source, client=None):
        seen["source"] = source
        return ScanResult(
            image=tag,
            source=source,
            findings=[_finding("LOW"), _finding("MEDIUM"), _finding("CRITICAL", "starlette")],
        )

    monkeypatch.setattr(lab3, "build", lambda *a, **k: None)
    monkeypatch.setattr(lab3, "app_context", lambda files: Path("/nonexistent-lab3-context"))
    monkeypatch.setattr(lab3, "scan", fake_scan)
    monkeypatch.setattr(lab3, "check_health", lambda *a, **k: None)
    monkeypatch.setattr(lab3, "sbom", lambda *a, **k: SimpleNamespace(packages=[], os_ecosystem="Debian:12"))
    monkeypatch.setattr(lab3, "_CACHE", {})
    return seen


def test_graded_settings_are_read_from_grading_yml(tmp_path, monkeypatch):
    """Do the threshold and the scan source come from the lab's grading.yml, with defaults when it sets none?"""
    monkeypatch.setattr(facts, "course_root", lambda: _course(tmp_path, "graded: {severity_threshold: MEDIUM}\n"))
    assert lab3.graded_settings() == ("MEDIUM", "auto")
    monkeypatch.setattr(facts, "course_root", lambda: tmp_path / "empty")
    assert lab3.graded_settings() == (lab3.DEFAULT_THRESHOLD, lab3.DEFAULT_SOURCE) == ("HIGH", "auto")


def test_report_uses_the_graders_threshold_and_source(tmp_path, monkeypatch, fake_engine):
    """Does lab3_report scan with the spec's source and list the findings at or above the spec's threshold?"""
    course = _course(tmp_path, "graded: {severity_threshold: MEDIUM, scan_source: snapshot}\n")
    monkeypatch.setattr(facts, "course_root", lambda: course)
    rep = lab3.lab3_report.trusted("FROM scratch\n", "idna==1\n")
    assert fake_engine["source"] == "snapshot"
    assert (rep.threshold, rep.scan_source) == ("MEDIUM", "snapshot")
    assert sorted(f.severity for f in rep.over_threshold) == ["CRITICAL", "MEDIUM"]


def test_a_lenient_notebook_cannot_lower_the_bar(tmp_path, monkeypatch, fake_engine):
    """With the threshold at HIGH on the grader, does a CRITICAL finding fail whatever the notebook would pass?"""
    monkeypatch.setattr(facts, "course_root", lambda: _course(tmp_path, "graded: {severity_threshold: HIGH}\n"))
    rep = lab3.lab3_report.trusted("FROM scratch\n", "idna==1\n")
    assert [f.package for f in rep.over_threshold] == ["starlette"]
    with pytest.raises(TypeError):  # no third positional argument (a threshold or a source) is taken
        lab3.lab3_report.trusted("FROM scratch\n", "idna==1\n", "CRITICAL")


def test_the_report_survives_the_trip_to_the_sandbox(tmp_path, monkeypatch, fake_engine):
    """Are the threshold and the findings over it kept when the answer is encoded for the sandbox and decoded there?"""
    monkeypatch.setattr(facts, "course_root", lambda: _course(tmp_path, ""))
    rep = queries.decode(queries.encode(lab3.lab3_report.trusted("FROM scratch\n", "idna==1\n")))
    assert rep.threshold == "HIGH" and isinstance(rep.over_threshold[0], Finding)


@pytest.mark.parametrize("extra", ["CRITICAL", "snapshot", None])
def test_a_request_that_names_a_threshold_or_source_is_refused(extra):
    """Does the grader refuse a lab3_report request with a third argument (the notebook choosing its own bar)?"""
    with pytest.raises(GradingRefused):
        queries.check_arity("lab3_report", ["FROM scratch\n", "idna==1\n", extra])
    session = TrustedSession(("lab3_report",))
    session.run([("lab3_report", ["FROM scratch\n", "idna==1\n", extra])])
    (answer,) = session.answers.values()
    assert answer["ok"] is False and answer["error"]["type"] == "GradingRefused"


def _cells() -> list:
    return [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]


def _parse(source: str) -> ast.Module:
    """A cell's code without IPython magics (``%matplotlib inline``)."""
    return ast.parse("\n".join(line for line in source.splitlines() if not line.startswith("%")))


def test_notebook_shows_the_graders_settings():
    """Do the notebook's SEVERITY_THRESHOLD and SCAN_SOURCE (the student's own check) equal grading.yml's settings?"""
    (params,) = [c for c in _cells() if "parameters" in c.metadata.get("tags", [])]
    values = {
        t.id: ast.literal_eval(node.value)
        for node in ast.parse(params.source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
    }
    assert (values["SEVERITY_THRESHOLD"], values["SCAN_SOURCE"]) == lab3.graded_settings()
    assert params.metadata["nbgrader"]["locked"] is True


def test_graded_cells_pass_no_setting_to_the_grader():
    """Does every lab3_report call pass the two answers only, and the threshold check read the grader's verdict?"""
    calls = [
        node
        for cell in _cells()
        for node in ast.walk(_parse(cell.source))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "lab3_report"
    ]
    assert len(calls) == 3
    assert all(len(c.args) == 2 and not c.keywords for c in calls)
    first = next(c for c in _cells() if c.metadata.get("nbgrader", {}).get("grade_id") == "no_findings_at_threshold")
    assert "graded.threshold" in first.source and "graded.over_threshold" in first.source
