"""Every lab's reference answer builds and works on each stand-in base family (Debian 12 and Debian 13).

Today's official ``python:3.12-slim`` is Debian 13 with deb822 sources; the kit's default stand-in is Debian 12.
Each family is chosen as a student's build chooses it: ``COURSE_BASE_FAMILY`` read by
:func:`helpers.engine.baseimages.fill_base_args`. Labs 1-3 must answer ``GET /health`` with 200 (Lab 2 and 3 also
report healthy); the shrink activity must print ``ok``. A lab that works on one family and not the other fails
here. The Debian 13 images are built once (``make test`` builds them in its set-up: ``env up --base-family
trixie``; here they are built if missing, a few minutes).
"""

from __future__ import annotations

import tempfile

import pytest
from kitroot import TESTS

from helpers.engine.baseimages import FAMILIES, OFFICIAL, ORIGIN_LABEL, has_image
from helpers.engine.client import kit_labels
from helpers.grading.labs.common import check_dockerfile
from helpers.images.build import build
from helpers.images.provision import ensure_base_images
from helpers.supplychain.remediation import app_context

pytestmark = pytest.mark.engine

LABS = TESTS / "data" / "labs"


@pytest.fixture(scope="module")
def families(engine):
    """Both families' slim and full stand-ins on the engine (built once when missing)."""
    return {name: ensure_base_images(lambda _line: None, ("slim", "full"), engine, family=name) for name in FAMILIES}


@pytest.fixture(params=list(FAMILIES))
def family(request, families, monkeypatch):
    """One family, selected the way a build selects it."""
    monkeypatch.delenv("COURSE_BASE_IMAGE", raising=False)
    monkeypatch.setenv("COURSE_BASE_FAMILY", request.param)
    return request.param


def _from_family(engine, tag: str, family: str) -> None:
    """The image was built on ``family``'s stand-in (its base's origin label is inherited), unless the engine has
    the official images, which then win as they do for students."""
    if all(has_image(engine, ref) for ref in OFFICIAL.values()):
        return
    origin = engine.images.get(tag).labels.get(ORIGIN_LABEL, "")
    assert origin.startswith(f"debian-{family} "), origin


def _answers(rep, family: str, healthy: bool) -> None:
    assert rep.built, f"{family}: {rep.error}"
    assert rep.health_status == 200, f"{family}: {rep.run_error or rep.health_status}"
    if healthy:
        assert rep.healthy == "healthy", f"{family}: {rep.healthy}"


def test_lab1_reference(engine, family):
    """Does Lab 1's reference build on the family and answer /health?"""
    tag = f"course-test/base-family-lab1:{family}"
    rep = check_dockerfile((LABS / "lab1-build-basics/reference/Dockerfile").read_text(), tag, client=engine)
    _answers(rep, family, healthy=False)
    _from_family(engine, tag, family)


def test_lab2_reference(engine, family):
    """Does Lab 2's reference (multi-stage, libpq5 from apt, BuildKit cache mount) build and report healthy?"""
    ref = LABS / "lab2-improve-dockerfile/reference"
    tag = f"course-test/base-family-lab2:{family}"
    rep = check_dockerfile(
        (ref / "Dockerfile").read_text(),
        tag,
        dockerignore_text=(ref / "Dockerfile.dockerignore").read_text(),
        wait_healthy=True,
        client=engine,
    )
    _answers(rep, family, healthy=True)
    _from_family(engine, tag, family)


def test_lab3_reference(engine, family, tmp_path):
    """Does Lab 3's reference (security upgrade, current pins) build and report healthy?"""
    ref = LABS / "lab3-security-scan/reference"
    tag = f"course-test/base-family-lab3:{family}"
    ctx = app_context({"requirements.txt": (ref / "requirements.txt").read_text()}, tmp_path / "ctx")
    rep = check_dockerfile((ref / "Dockerfile").read_text(), tag, context=ctx, wait_healthy=True, client=engine)
    _answers(rep, family, healthy=True)
    _from_family(engine, tag, family)


def test_shrink_reference(engine, family):
    """Does the shrink activity's reference build and print ok?"""
    tag = f"course-test/base-family-shrink:{family}"
    with tempfile.TemporaryDirectory(prefix="course-shrink-") as ctx:
        build(ctx, dockerfile_text=(LABS / "activity-shrink-image/reference/Dockerfile").read_text(), tags=[tag])
    out = engine.containers.run(tag, network_disabled=True, remove=True, labels=kit_labels("test"))
    assert out.decode().strip() == "ok", out
    _from_family(engine, tag, family)


def test_stand_ins_carry_the_official_layout(engine, families):
    """Do both families' slim stand-ins have the official images' apt settings, deb822 sources with the security
    suite, python and pip in /usr/local (pip's own copy there, not Debian's), and no EXTERNALLY-MANAGED marker
    (dpkg told to keep it out)?"""
    script = (
        "set -e; . /etc/os-release; ls /etc/apt/apt.conf.d; test ! -e /etc/apt/sources.list; "
        "cat /etc/apt/sources.list.d/debian.sources; readlink -f /usr/local/bin/python; pip --version; "
        "grep -h EXTERNALLY-MANAGED /etc/dpkg/dpkg.cfg.d/*; "
        "ls /usr/lib/python3*/EXTERNALLY-MANAGED 2>/dev/null || echo no-marker"
    )
    for name, images in families.items():
        out = engine.containers.run(images["slim"], ["sh", "-c", script], remove=True).decode()
        for setting in ("docker-clean", "docker-gzip-indexes", "docker-no-languages", "docker-autoremove-suggests"):
            assert setting in out, (name, out)
        assert f"Suites: {name} {name}-updates" in out and f"Suites: {name}-security" in out, out
        assert "path-exclude=/usr/lib/python3*/EXTERNALLY-MANAGED" in out, out
        assert "/usr/bin/python3." in out and "from /usr/local/lib/python3." in out and "no-marker" in out, out
