"""Lab 3 for real: the old image has findings, the remediated one has none at HIGH and is healthy."""

import pytest
from kitroot import ROOT, TESTS

from helpers.images.build import build
from helpers.supplychain.remediation import app_context, check_health
from helpers.supplychain.scan import compare_scans, scan

pytestmark = pytest.mark.engine
LAB = ROOT / "source" / "lab3-security-scan"
#: Lab 3's reference answer (the files a student who finished the lab hands in).
SOLUTION = TESTS / "data" / "labs" / "lab3-security-scan" / "reference"


@pytest.fixture(scope="module")
def lab3_images(engine, tmp_path_factory):
    ctx = app_context(
        {
            "requirements-old.txt": (LAB / "requirements-old.txt").read_text(),
            "requirements.txt": (SOLUTION / "requirements.txt").read_text(),
        },
        tmp_path_factory.mktemp("lab3"),
    )
    old = build(ctx, dockerfile=LAB / "Dockerfile.old", tags=["course-test/lab3:old"])
    fixed = build(ctx, dockerfile=SOLUTION / "Dockerfile", tags=["course-test/lab3:fixed"])
    yield old.image_id, fixed.image_id
    for ref in ("course-test/lab3:old", "course-test/lab3:fixed"):
        engine.images.remove(ref, force=True)


def test_old_image_has_real_findings(lab3_images):
    """Does the old image show idna's HIGH advisory and unpatched Debian packages?"""
    res = scan(lab3_images[0], source="snapshot")
    ids = {f.id for f in res.findings}
    assert "PYSEC-2024-60" in ids
    assert any(f.ecosystem == "Debian:12" for f in res.findings)
    assert res.at_or_above("HIGH")


def test_remediated_image_is_clean_and_healthy(engine, lab3_images):
    """Has the remediated image no finding at or above HIGH, no fixable Debian finding, and does it pass its health
    check?
    """
    before, after = scan(lab3_images[0], source="snapshot"), scan(lab3_images[1], source="snapshot")
    assert after.at_or_above("HIGH") == []
    assert [f for f in after.findings if f.ecosystem.startswith("Debian") and f.fixed_version] == []
    assert "fixed" in set(compare_scans(before, after).status)
    assert check_health(lab3_images[1], client=engine).healthy
    assert check_health(
        lab3_images[0], client=engine
    ).healthy  # the old one worked too: scanning, not testing, finds this
