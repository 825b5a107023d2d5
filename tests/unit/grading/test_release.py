"""What students receive: release/ as nbgrader generates it from source/ (no engine)."""

from __future__ import annotations

from kitroot import ROOT


def test_release_holds_no_grading_settings():
    """Does release/ hold every lab but none of the instructor's grading.yml files?"""
    labs = {p.parent.name for p in (ROOT / "source").glob("*/grading.yml")}
    assert labs, "the labs' grading.yml files are in source/"
    assert labs <= {p.name for p in (ROOT / "release").iterdir()}
    assert list((ROOT / "release").rglob("grading.yml")) == []
