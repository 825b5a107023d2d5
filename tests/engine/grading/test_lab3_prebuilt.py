"""Lab 3's inherited image as a prebuilt archive: the scan a student without Docker gets."""

from __future__ import annotations

import pytest

from helpers.archive.reader import save_image
from helpers.kit.prebuilt import CATALOG, catalog_image
from helpers.supplychain.remediation import LAB3_OLD_TAG
from helpers.supplychain.scan import scan

pytestmark = pytest.mark.engine


def test_lab3_old_archive_scans_like_the_image(engine, tmp_path):
    """Does the `lab3-old` catalog image, read from its archive, show the same findings (idna's HIGH) as the engine?"""
    assert "lab3-old" in CATALOG
    assert catalog_image("lab3-old", client=engine) == LAB3_OLD_TAG
    archive = save_image(LAB3_OLD_TAG, tmp_path / "lab3-old.tar", client=engine)
    offline, online = scan(archive, source="snapshot"), scan(LAB3_OLD_TAG, source="snapshot", client=engine)
    assert offline.packages_scanned == online.packages_scanned > 50
    assert sorted((f.id, f.package) for f in offline.findings) == sorted((f.id, f.package) for f in online.findings)
    high = [(f.id, f.package, f.installed_version) for f in offline.at_or_above("HIGH")]
    assert ("PYSEC-2024-60", "idna", "3.6") in high
