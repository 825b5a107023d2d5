"""Provision the course's base images: pull the official Python images, or build local stand-ins.

When no registry is reachable, the kit builds honestly named stand-ins from Debian packages
(``debootstrap``, then :func:`helpers.images.build.build` of the kit's Python Dockerfiles).
This lives in ``images`` because it needs the builder, and the builder needs
:mod:`helpers.engine.baseimages` to look base images up: keeping the two apart keeps the
imports one-way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import (
    OFFICIAL,
    ORIGIN_LABEL,
    base_family,
    base_image,
    deb822_sources,
    debian_mirror,
    local_images,
    security_mirror,
)
from helpers.engine.client import get_client
from helpers.engine.daemon import apt_install
from helpers.errors import ImageNotFound, SetupError
from helpers.images.build import build
from helpers.paths import DATA_DIR

__all__ = ["ensure_base_images"]

DATA = DATA_DIR / "base"
Log = Callable[[str], None]
#: Label saying which recipe built a stand-in; bumped when the recipe changes, so that an existing stand-in
#: built by an older kit is rebuilt by the next ``env up`` (2: official apt settings and deb822 sources;
#: 3: Python in a virtual environment at /usr/local).
RECIPE_LABEL = "org.dockercourse.base-recipe"
RECIPE = "3"


def ensure_base_images(
    log: Log = print, kinds: tuple[str, ...] = ("slim", "full"), client: Any = None, family: str | None = None
) -> dict[str, str]:
    """Make the base images available: pull the official ones, or build local stand-ins.

    Args:
        log: Where progress lines go.
        kinds: Which images ("slim", "full", "debian").
        client: docker-py client.
        family: Stand-in family to build when no official image is there (default: ``COURSE_BASE_FAMILY``,
            else bookworm). An explicit family always gets its own stand-ins built, official images or not.

    Returns:
        kind -> image reference.

    Raises:
        SetupError: Neither pulling nor building worked.
    """
    c = get_client(client)
    out: dict[str, str] = {}
    for kind in kinds:
        if family is not None:  # asked for by name (a test of that family): the stand-in itself
            out[kind] = _build_local(kind, c, log, base_family(family))
            continue
        try:
            ref = base_image(kind, c)
            if ref not in local_images().values() or _current(c, ref):
                out[kind] = ref
                continue
        except ImageNotFound:
            pass
        if kind in OFFICIAL and _try_pull(c, OFFICIAL[kind], log):
            out[kind] = OFFICIAL[kind]
            continue
        out[kind] = _build_local(kind, c, log, base_family())
    return out


def _try_pull(client: Any, ref: str, log: Log) -> bool:
    from docker.errors import APIError

    repo, _, tag = ref.partition(":")
    try:
        client.images.pull(repo, tag=tag or "latest")
    except APIError:
        return False
    log(f"Pulled {ref}.")
    return True


def _build_local(kind: str, client: Any, log: Log, family: str) -> str:
    """Build one stand-in of ``family`` (and its parents) unless the engine has it."""
    local = local_images(family)
    if kind == "debian":
        return _debootstrap_image(client, log, family)
    parent = _debootstrap_image(client, log, family) if kind == "slim" else _build_local("slim", client, log, family)
    if _current(client, local[kind]):
        return local[kind]
    log(f"Building {local[kind]} from Debian packages (registry unreachable; about a minute)...")
    arg = "DEBIAN_IMAGE" if kind == "slim" else "SLIM_IMAGE"
    pinned = _pin(client, parent)
    try:
        with tempfile.TemporaryDirectory() as ctx:
            build(
                ctx,
                dockerfile=DATA / f"python-{kind}.Dockerfile",
                tags=[local[kind]],
                build_args={arg: pinned, "BASE_IMAGE": pinned},
                labels={ORIGIN_LABEL: f"debian-{family} python-{kind}", RECIPE_LABEL: RECIPE},
                kit_label=False,
                client=client,
            )
    finally:
        client.images.remove(pinned)  # only a second tag: the parent itself stays
    return local[kind]


def _pin(client: Any, ref: str) -> str:
    """A second tag for ``ref`` naming its image id (``<ref>-<12 hex digits>``), to build FROM.

    When a stand-in is rebuilt, its tag moves to a new image; Debian 12's dockerd 20.10 BuildKit was seen to
    build FROM the tag's previous image right after (the rebuilt full stand-in got the old slim one's layers).
    A name used for one image only cannot be stale.
    """
    image = client.images.get(ref)
    repo, _, tag = ref.rpartition(":")
    pinned_tag = f"{tag}-{image.id.split(':')[-1][:12]}"
    image.tag(repo, pinned_tag)
    return f"{repo}:{pinned_tag}"


def _debootstrap_image(client: Any, log: Log, family: str) -> str:
    """``course-base/debian:<family>``: debootstrap minbase from the host's mirror, configured as the official
    Debian image is (:func:`_configure_like_official`), imported into the engine."""
    ref = local_images(family)["debian"]
    if _current(client, ref):
        return ref
    if not shutil.which("debootstrap"):
        apt_install(["debootstrap"], log)
    if os.geteuid() != 0:
        raise SetupError("Building a base image with debootstrap needs root.", "Run `sudo make lab` once.")
    mirror = debian_mirror(family)  # COURSE_DEBIAN_MIRROR, else the host's apt sources, else deb.debian.org
    log(f"Building {ref} with debootstrap from {mirror} (30 s to a minute)...")
    with tempfile.TemporaryDirectory(prefix="course-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        proc = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=ca-certificates", family, str(root), mirror],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.strip().splitlines()[-3:] + proc.stderr.strip().splitlines()[-3:])
            raise SetupError(
                f"debootstrap {family} failed:\n{tail}",
                "Check that this machine reaches the Debian mirror (and, for a newer release than the host's, that "
                "the host's debootstrap and debian-archive-keyring know it), then run again.",
            )
        _add_site_certificates(root)
        _configure_like_official(root, family, mirror)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info"):
            for p in (root / junk).glob("*"):
                if p.is_file() and p.name != "lock":
                    p.unlink()
                elif p.is_dir() and p.name != "partial":
                    shutil.rmtree(p)
        for p in (root / "var/cache/apt").glob("*.bin"):
            p.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(
            [
                "docker",
                "import",
                "--change",
                f'LABEL {ORIGIN_LABEL}="debian-{family} debootstrap minbase" {RECIPE_LABEL}="{RECIPE}"',
                "--change",
                'CMD ["bash"]',
                "--change",
                "ENV LANG=C.UTF-8",
                "-",
                ref,
            ],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
        )
        tar.wait()
        if imp.returncode != 0:
            raise SetupError(f"docker import failed: {imp.stderr.strip()}", "Check the engine with `docker info`.")
    return ref


def _current(client: Any, ref: str) -> bool:
    """True when the engine has the stand-in ``ref`` built by this kit's recipe (:data:`RECIPE`)."""
    from docker.errors import ImageNotFound as _NF

    try:
        labels = client.images.get(ref).labels or {}
    except _NF:
        return False
    return labels.get(RECIPE_LABEL) == RECIPE


def _configure_like_official(root: Path, suite: str, mirror: str) -> None:
    """Give a debootstrap tree the official Debian image's apt and dpkg settings and its sources.

    The files under ``apt-settings/`` are debuerreotype's (``debuerreotype-minimizing-config``, which builds
    the official images): ``docker-clean`` (no ``.deb`` or ``*.bin`` cache left in a layer after apt runs),
    ``docker-gzip-indexes``, ``docker-no-languages``, ``docker-autoremove-suggests``, dpkg's
    ``docker-apt-speedup`` and ``policy-rc.d``. Sources are deb822 ``debian.sources`` (release, ``-updates``,
    ``-security``) from the host's mirrors, as ``debian:bookworm`` and later list them; no ``sources.list``.
    """
    for name, dest in _OFFICIAL_SETTINGS.items():
        target = root / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SETTINGS / name, target)
        target.chmod(0o755 if name == "policy-rc.d" else 0o644)
    keyrings = root / "usr/share/keyrings"
    pgp = keyrings / "debian-archive-keyring.pgp"  # Debian 13's name; Debian 12 has only the .gpg
    keyring = "/usr/share/keyrings/" + (pgp.name if pgp.exists() else "debian-archive-keyring.gpg")
    sources = root / "etc/apt/sources.list.d/debian.sources"
    sources.parent.mkdir(parents=True, exist_ok=True)
    sources.write_text(deb822_sources(suite, mirror, security_mirror(), keyring))
    (root / "etc/apt/sources.list").unlink(missing_ok=True)


#: Settings file (under ``apt-settings/``) -> where it goes in the image.
SETTINGS = DATA / "apt-settings"
_OFFICIAL_SETTINGS = {
    "docker-clean": "etc/apt/apt.conf.d/docker-clean",
    "docker-gzip-indexes": "etc/apt/apt.conf.d/docker-gzip-indexes",
    "docker-no-languages": "etc/apt/apt.conf.d/docker-no-languages",
    "docker-autoremove-suggests": "etc/apt/apt.conf.d/docker-autoremove-suggests",
    "docker-apt-speedup": "etc/dpkg/dpkg.cfg.d/docker-apt-speedup",
    "policy-rc.d": "usr/sbin/policy-rc.d",
}


def _add_site_certificates(root: Path) -> None:
    """Copy the site's extra CA certificates (a TLS-intercepting proxy) into the image."""
    site = Path("/usr/local/share/ca-certificates")
    certs = list(site.glob("*.crt")) if site.is_dir() else []
    if not certs:
        return
    dest = root / "usr/local/share/ca-certificates"
    dest.mkdir(parents=True, exist_ok=True)
    for crt in certs:
        shutil.copy2(crt, dest / crt.name)
    subprocess.run(["chroot", str(root), "update-ca-certificates"], capture_output=True, check=False)
