"""Bill of materials of a real image, from the engine and from a saved archive."""

import pytest

from helpers.engine.baseimages import base_image
from helpers.errors import ImageNotFound
from helpers.supplychain.sbom import sbom

pytestmark = pytest.mark.engine


def test_base_image_sbom_from_engine_and_archive(engine, tmp_path):
    """Does the slim base list Debian packages (with source names) and pip, the same from the engine and from `docker
    save`?
    """
    ref = base_image("slim")
    live = sbom(ref, client=engine)
    assert live.os_ecosystem == "Debian:12"
    names = {p.name: p for p in live.packages}
    assert names["libpam0g"].source == "pam" and names["libpam0g"].type == "deb"
    assert names["pip"].type == "pypi" and names["pip"].layer == len(live.layers) - 1
    assert names["libc6"].layer == 0
    archive = tmp_path / "base.tar"
    with open(archive, "wb") as fh:
        for chunk in engine.images.get(ref).save(named=True):
            fh.write(chunk)
    offline = sbom(archive)
    assert sorted((p.name, p.version, p.layer) for p in offline.packages) == sorted(
        (p.name, p.version, p.layer) for p in live.packages
    )


def test_unknown_image(engine):
    """Is an image that does not exist reported as such?"""
    with pytest.raises(ImageNotFound):
        sbom("course-test/does-not-exist:0", client=engine)
