"""Unit tests for helpers.ci.pipelinereport (no engine): a local pipeline run's report."""

from __future__ import annotations

from helpers.ci.pipelinereport import PipelineReport, Stage


def test_report_exit_code_and_text():
    """Is the exit status 1 as soon as one stage fails, and does the text say which?"""
    ok = PipelineReport([Stage("build app image", True, 1.0)], test_log="== 3 passed in 0.1s ==")
    bad = PipelineReport([Stage("build app image", True, 1.0), Stage("wait healthy", False, 9.0, "unhealthy")])
    assert ok.exit_code == 0 and "tests: 3 passed" in ok.text()
    assert bad.exit_code == 1 and "FAIL  wait healthy" in bad.text() and "exit status 1" in bad.text()
    assert PipelineReport().exit_code == 1  # nothing ran is not a success
