"""Base images for the course: the official Python images when a registry has them,
honestly named local images built from Debian packages when none is reachable.

Every course Dockerfile starts with ``ARG BASE_IMAGE=python:3.12-slim`` and
``FROM ${BASE_IMAGE}``; :func:`base_image` tells the kit which value to pass.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client
from helpers.engine.daemon import apt_install
from helpers.errors import ImageNotFound, SetupError
from helpers.paths import DATA_DIR

__all__ = [
    "OFFICIAL",
    "LOCAL",
    "base_image",
    "ensure_base_images",
    "base_image_source",
    "remove_local_base_images",
    "official_arg_defaults",
    "fill_base_args",
]

#: What the course Dockerfiles name by default.
OFFICIAL = {"slim": "python:3.12-slim", "full": "python:3.12"}
#: Local stand-ins built from Debian packages (Debian's Python 3.11, not the official image).
LOCAL = {
    "debian": "course-base/debian:bookworm",
    "slim": "course-base/python:3.11-slim-bookworm",
    "full": "course-base/python:3.11-bookworm",
}
#: Label on the local base images saying how they were made (not the kit label: labels are inherited).
ORIGIN_LABEL = "org.dockercourse.base-origin"

DATA = DATA_DIR / "base"
Log = Callable[[str], None]


def _exists(client: Any, ref: str) -> bool:
    from docker.errors import ImageNotFound as _NF

    try:
        client.images.get(ref)
    except _NF:
        return False
    return True


def base_image(kind: str = "slim", client: Any = None) -> str:
    """The base image to pass as ``BASE_IMAGE``.

    Args:
        kind: "slim" (default), "full" or "debian".
        client: docker-py client (connects lazily).

    Returns:
        ``COURSE_BASE_IMAGE`` when set (slim only); else the official image when the engine
        has it; else the local stand-in.

    Raises:
        ImageNotFound: Neither is on the engine yet.
    """
    if kind == "slim" and os.environ.get("COURSE_BASE_IMAGE"):
        return os.environ["COURSE_BASE_IMAGE"]
    c = get_client(client)
    for ref in ([OFFICIAL[kind]] if kind in OFFICIAL else []) + [LOCAL[kind]]:
        if _exists(c, ref):
            return ref
    raise ImageNotFound(LOCAL[kind], hint="Run `make lab` (or `python -m helpers env up`) to prepare the base images.")


def base_image_source(ref: str) -> str:
    """A short, honest description of where a base image came from."""
    if ref in LOCAL.values():
        return "built here from Debian packages (no registry reachable)"
    return "pulled from a registry"


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
    from helpers.images.build import build

    if kind == "debian":
        return _debootstrap_image(client, log)
    parent = _debootstrap_image(client, log) if kind == "slim" else _build_local("slim", client, log)
    if _exists(client, LOCAL[kind]):
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
    if _exists(client, ref):
        return ref
    if not shutil.which("debootstrap"):
        apt_install(["debootstrap"], log)
    if os.geteuid() != 0:
        raise SetupError("Building a base image with debootstrap needs root.", "Run `sudo make lab` once.")
    mirror = os.environ.get("COURSE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
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


def remove_local_base_images(client: Any = None) -> list[str]:
    """Remove the local stand-in base images (by name; only those the kit builds)."""
    from docker.errors import APIError, NotFound

    c = get_client(client)
    removed = []
    for ref in (LOCAL["full"], LOCAL["slim"], LOCAL["debian"]):
        try:
            c.images.remove(ref)
            removed.append(ref)
        except (NotFound, APIError):
            pass
    return removed


_ARG_DEFAULT = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)=[\"']?([^\s\"']+)", re.I | re.M)


def official_arg_defaults(dockerfile_text: str) -> dict[str, str]:
    """ARGs whose default names an official Python image: name -> base kind ("slim" or "full")."""
    kinds = {ref: kind for kind, ref in OFFICIAL.items()}
    out: dict[str, str] = {}
    for name, default in _ARG_DEFAULT.findall(dockerfile_text):
        ref = default.replace("-bookworm", "")
        if ref in kinds:
            out[name] = kinds[ref]
    return out


def fill_base_args(args: dict[str, str], dockerfile_text: str, client: Any = None) -> dict[str, str]:
    """Fill missing base-image ARGs (see :func:`official_arg_defaults`; ``BASE_IMAGE`` defaults to slim)."""
    wanted = official_arg_defaults(dockerfile_text)
    wanted.setdefault("BASE_IMAGE", "slim")
    for name, kind in wanted.items():
        if name not in args:
            args[name] = base_image(kind, client)
    return args
