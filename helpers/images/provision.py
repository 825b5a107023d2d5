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

from helpers.engine.baseimages import LOCAL, OFFICIAL, ORIGIN_LABEL, base_image, debian_mirror, has_image
from helpers.engine.client import get_client
from helpers.engine.daemon import apt_install
from helpers.errors import ImageNotFound, SetupError
from helpers.images.build import build
from helpers.paths import DATA_DIR

__all__ = ["ensure_base_images"]

DATA = DATA_DIR / "base"
Log = Callable[[str], None]


def ensure_base_images(
    log: Log = print, kinds: tuple[str, ...] = ("slim", "full"), client: Any = None
) -> dict[str, str]:
    """Make the base images available: pull the official ones, or build local stand-ins.

    Returns:
        kind -> image reference.

    Raises:
        SetupError: Neither pulling nor building worked.
    """
    c = get_client(client)
    out: dict[str, str] = {}
    for kind in kinds:
        try:
            out[kind] = base_image(kind, c)
            continue
        except ImageNotFound:
            pass
        if _try_pull(c, OFFICIAL[kind], log):
            out[kind] = OFFICIAL[kind]
            continue
        out[kind] = _build_local(kind, c, log)
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


def _build_local(kind: str, client: Any, log: Log) -> str:
    if kind == "debian":
        return _debootstrap_image(client, log)
    parent = _debootstrap_image(client, log) if kind == "slim" else _build_local("slim", client, log)
    if has_image(client, LOCAL[kind]):
        return LOCAL[kind]
    log(f"Building {LOCAL[kind]} from Debian packages (registry unreachable; about a minute)...")
    arg = "DEBIAN_IMAGE" if kind == "slim" else "SLIM_IMAGE"
    with tempfile.TemporaryDirectory() as ctx:
        build(
            ctx,
            dockerfile=DATA / f"python-{kind}.Dockerfile",
            tags=[LOCAL[kind]],
            build_args={arg: parent, "BASE_IMAGE": parent},
            labels={ORIGIN_LABEL: f"debian-bookworm python-{kind}"},
            kit_label=False,
            client=client,
        )
    return LOCAL[kind]


def _debootstrap_image(client: Any, log: Log) -> str:
    ref = LOCAL["debian"]
    if has_image(client, ref):
        return ref
    if not shutil.which("debootstrap"):
        apt_install(["debootstrap"], log)
    if os.geteuid() != 0:
        raise SetupError("Building a base image with debootstrap needs root.", "Run `sudo make lab` once.")
    mirror = debian_mirror("bookworm")  # COURSE_DEBIAN_MIRROR, else the host's apt sources, else deb.debian.org
    log(f"Building {ref} with debootstrap from {mirror} (about 30 s)...")
    with tempfile.TemporaryDirectory(prefix="course-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        proc = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm", str(root), mirror],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.strip().splitlines()[-3:] + proc.stderr.strip().splitlines()[-3:])
            raise SetupError(
                f"debootstrap failed:\n{tail}", "Check that this machine reaches the Debian mirror, then run again."
            )
        _add_site_certificates(root)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info"):
            for p in (root / junk).glob("*"):
                if p.is_file() and p.name != "lock":
                    p.unlink()
                elif p.is_dir() and p.name != "partial":
                    shutil.rmtree(p)
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(
            [
                "docker",
                "import",
                "--change",
                f'LABEL {ORIGIN_LABEL}="debian-bookworm debootstrap minbase"',
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
