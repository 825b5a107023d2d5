"""Base-image lesson logic: failed-build lines, context sizes, pins."""

from __future__ import annotations

import pytest

from helpers.lessons import basecompare


@pytest.mark.parametrize(
    "log,line",
    [
        (
            "x\n  Error: pg_config executable not found.\n\nerror: subprocess-exited-with-error\n",
            "pg_config executable not found.",
        ),
        (
            "psycopg/psycopgmodule.c:28:10: fatal error: Python.h: No such file or directory\nERROR: x",
            "Python.h: No such file or directory",
        ),
        ("nothing known here\nlast line", "last line"),
    ],
)
def test_telling_line(log, line):
    """Is the line that explains a failed compiled build picked out of its log?"""
    assert line in basecompare._telling_line(log)


def test_context_bytes():
    """Is the build context size read from BuildKit's log (largest transfer wins)?"""
    log = "#1 transferring context: 2B done\n#5 transferring context: 20.97MB 0.3s done\n"
    assert basecompare._context_bytes(log) == pytest.approx(20.97e6)
    assert basecompare._context_bytes("") == 0.0


def test_pinned_requirements(tmp_path):
    """Are unpinned and range-pinned requirements reported as not pinned?"""
    req = tmp_path / "requirements.txt"
    req.write_text("# comment\nfastapi==0.1.0\nuvicorn>=0.2\nrequests\n-r other.txt\npydantic[email]==2.0  # note\n")
    df = basecompare.pinned_requirements(req)
    assert dict(zip(df.requirement, df.pinned)) == {
        "fastapi==0.1.0": True,
        "uvicorn>=0.2": False,
        "requests": False,
        "pydantic[email]==2.0": True,
    }
