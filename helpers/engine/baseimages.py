"""Base images for the course: the official Python images when a registry has them,
honestly named local images built from Debian packages when none is reachable.

Every course Dockerfile starts with ``ARG BASE_IMAGE=python:3.12-slim`` and
``FROM ${BASE_IMAGE}``; :func:`base_image` tells the kit which value to pass. This module only
looks images up (the builder needs it); pulling or building them is
:func:`helpers.images.provision.ensure_base_images`, which needs the builder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client
from helpers.errors import ImageNotFound, SetupError

__all__ = [
    "OFFICIAL",
    "LOCAL",
    "FAMILIES",
    "DEFAULT_FAMILY",
    "base_family",
    "local_images",
    "ORIGIN_LABEL",
    "base_image",
    "has_image",
    "base_image_source",
    "remove_local_base_images",
    "official_arg_defaults",
    "fill_base_args",
    "DEFAULT_DEBIAN_MIRROR",
    "DEFAULT_SECURITY_MIRROR",
    "apt_sources",
    "debian_mirror",
    "security_mirror",
    "deb822_sources",
]

#: What the course Dockerfiles name by default.
OFFICIAL = {"slim": "python:3.12-slim", "full": "python:3.12"}
#: Local stand-ins built from Debian packages, one family per Debian release (Debian's own Python, named by its
#: version: not the official image). Debian 12 is the default; Debian 13 has today's official images' layout.
FAMILIES = {
    "bookworm": {
        "debian": "course-base/debian:bookworm",
        "slim": "course-base/python:3.11-slim-bookworm",
        "full": "course-base/python:3.11-bookworm",
    },
    "trixie": {
        "debian": "course-base/debian:trixie",
        "slim": "course-base/python:3.13-slim-trixie",
        "full": "course-base/python:3.13-trixie",
    },
}
#: The family used unless ``COURSE_BASE_FAMILY`` names another.
DEFAULT_FAMILY = "bookworm"
#: The default family's stand-ins (what most of the kit names).
LOCAL = FAMILIES[DEFAULT_FAMILY]
#: Label on the local base images saying how they were made (not the kit label: labels are inherited).
ORIGIN_LABEL = "org.dockercourse.base-origin"


def has_image(client: Any, ref: str) -> bool:
    """True when the engine has the image ``ref``."""
    from docker.errors import ImageNotFound as _NF

    try:
        client.images.get(ref)
    except _NF:
        return False
    return True


def base_family(family: str | None = None) -> str:
    """The stand-in family to use: ``family``, else ``COURSE_BASE_FAMILY``, else :data:`DEFAULT_FAMILY`.

    Raises:
        SetupError: The name is not one of :data:`FAMILIES`.
    """
    name = (family or os.environ.get("COURSE_BASE_FAMILY") or DEFAULT_FAMILY).strip().lower()
    if name not in FAMILIES:
        raise SetupError(
            f"Unknown base image family {name!r}.",
            hint=f"Set COURSE_BASE_FAMILY to one of: {', '.join(FAMILIES)} (or unset it for {DEFAULT_FAMILY}).",
        )
    return name


def local_images(family: str | None = None) -> dict[str, str]:
    """kind -> stand-in image name of one family (see :func:`base_family`)."""
    return FAMILIES[base_family(family)]


def base_image(kind: str = "slim", client: Any = None, family: str | None = None) -> str:
    """The base image to pass as ``BASE_IMAGE``.

    Args:
        kind: "slim" (default), "full" or "debian".
        client: docker-py client (connects lazily).
        family: Stand-in family (default: ``COURSE_BASE_FAMILY``, else bookworm).

    Returns:
        ``COURSE_BASE_IMAGE`` when set (slim only); else the official image when the engine
        has it; else the family's local stand-in.

    Raises:
        ImageNotFound: Neither is on the engine yet.
        SetupError: ``COURSE_BASE_FAMILY`` names no family.
    """
    if kind == "slim" and os.environ.get("COURSE_BASE_IMAGE"):
        return os.environ["COURSE_BASE_IMAGE"]
    name = base_family(family)
    local = FAMILIES[name]
    c = get_client(client)
    for ref in ([OFFICIAL[kind]] if kind in OFFICIAL else []) + [local[kind]]:
        if has_image(c, ref):
            return ref
    flag = "" if name == DEFAULT_FAMILY else f" --base-family {name}"
    raise ImageNotFound(
        local[kind], hint=f"Run `make lab` (or `python -m helpers env up{flag}`) to prepare the base images."
    )


def base_image_source(ref: str) -> str:
    """A short, honest description of where a base image came from."""
    for name, images in FAMILIES.items():
        if ref in images.values():
            return f"built here from Debian {name} packages (no registry reachable)"
    return "pulled from a registry"


def remove_local_base_images(client: Any = None) -> list[str]:
    """Remove the local stand-in base images (by name; only those the kit builds)."""
    from docker.errors import APIError, NotFound

    c = get_client(client)
    removed = []
    for ref in [images[kind] for images in FAMILIES.values() for kind in ("full", "slim", "debian")]:
        try:
            c.images.remove(ref)
            removed.append(ref)
        except (NotFound, APIError):
            pass
    return removed


# Matched on one line at a time, from its first non-blank character: linear in the text's length.
_ARG_DEFAULT = re.compile(r"ARG\s+([A-Za-z_][A-Za-z0-9_]*)=[\"']?([^\s\"']+)", re.I)


def _arg_defaults(dockerfile_text: str) -> list[tuple[str, str]]:
    """(name, default) of every ``ARG name=default`` line of a (student's) Dockerfile."""
    out = []
    for line in dockerfile_text.splitlines():
        m = _ARG_DEFAULT.match(line.lstrip())
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def official_arg_defaults(dockerfile_text: str) -> dict[str, str]:
    """ARGs whose default names an official Python image: name -> base kind ("slim" or "full")."""
    kinds = {ref: kind for kind, ref in OFFICIAL.items()}
    out: dict[str, str] = {}
    for name, default in _arg_defaults(dockerfile_text):
        ref = default.replace("-bookworm", "").replace("-trixie", "")
        if ref in kinds:
            out[name] = kinds[ref]
    return out


def fill_base_args(args: dict[str, str], dockerfile_text: str, client: Any = None) -> dict[str, str]:
    """Fill missing base-image ARGs (see :func:`official_arg_defaults`; ``BASE_IMAGE`` defaults to slim).

    Stand-ins come from the family :func:`base_family` names (``COURSE_BASE_FAMILY``).
    """
    wanted = official_arg_defaults(dockerfile_text)
    wanted.setdefault("BASE_IMAGE", "slim")
    for name, kind in wanted.items():
        if name not in args:
            args[name] = base_image(kind, client)
    return args


#: debootstrap's own default, used when neither COURSE_DEBIAN_MIRROR nor the host's apt sources name one.
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"
#: The security archive the official Debian images list, used when the host lists none.
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"
#: Debian release names: a source for one of these is a Debian archive (Ubuntu's are jammy, noble, ...).
_DEBIAN_SUITES = "sid bullseye bookworm trixie forky duke unstable testing stable oldstable oldoldstable".split()
_SCHEMES = ("http://", "https://", "ftp://", "file:/")


def _one_line_sources(text: str) -> Iterator[tuple[str, str, list[str]]]:
    """(uri, suite, components) of each ``deb`` line of a one-line-style sources.list."""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        rest = line[4:].strip()
        if rest.startswith("["):  # options: [arch=amd64 signed-by=...]
            rest = rest.partition("]")[2]
        words = rest.split()
        if len(words) >= 2:
            yield words[0], words[1], words[2:]


def _deb822_sources(text: str) -> Iterator[tuple[str, str, list[str]]]:
    """(uri, suite, components) for each URI and suite of each enabled ``deb`` stanza of a .sources file."""
    for stanza in re.split(r"\n[ \t]*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:  # continuation line
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                yield uri, suite, fields.get("components", "").split()


def apt_sources(etc_apt: Path = Path("/etc/apt")) -> list[tuple[str, str, list[str]]]:
    """(uri, suite, components) of every binary package source this host's apt uses, in apt's order.

    Reads ``sources.list``, then ``sources.list.d/*.list`` (one-line style) and ``*.sources`` (deb822).
    Unreadable files are skipped: this only ever picks a mirror, it never fails.
    """
    files = [etc_apt / "sources.list"] + sorted((etc_apt / "sources.list.d").glob("*"))
    found: list[tuple[str, str, list[str]]] = []
    for f in files:
        parse = {".list": _one_line_sources, ".sources": _deb822_sources}.get(f.suffix)
        if parse is None:
            continue
        try:
            found.extend(parse(f.read_text(errors="replace")))
        except OSError:
            continue
    return found


def debian_mirror(suite: str = "bookworm", etc_apt: Path = Path("/etc/apt")) -> str:
    """The Debian mirror to build base images from: the site's own one when the host has it.

    ``COURSE_DEBIAN_MIRROR`` wins; then a host apt source for ``suite`` with ``main``; then a host
    source for another Debian release (a site mirror carries the whole archive); then
    :data:`DEFAULT_DEBIAN_MIRROR`. Security, updates and backports archives are never picked.
    """
    if os.environ.get("COURSE_DEBIAN_MIRROR"):
        return os.environ["COURSE_DEBIAN_MIRROR"]
    usable = [
        (uri.rstrip("/"), s)
        for uri, s, comps in apt_sources(etc_apt)
        if "main" in comps and uri.startswith(_SCHEMES) and s in _DEBIAN_SUITES
    ]
    for wanted in (lambda s: s == suite, lambda s: True):
        for uri, s in usable:
            if wanted(s):
                return uri
    return DEFAULT_DEBIAN_MIRROR


def security_mirror(etc_apt: Path = Path("/etc/apt")) -> str:
    """The Debian security archive for the base images: ``COURSE_DEBIAN_SECURITY_MIRROR``; else the host's apt
    source of a ``<release>-security`` suite with ``main``; else :data:`DEFAULT_SECURITY_MIRROR`."""
    if os.environ.get("COURSE_DEBIAN_SECURITY_MIRROR"):
        return os.environ["COURSE_DEBIAN_SECURITY_MIRROR"]
    for uri, suite, comps in apt_sources(etc_apt):
        release, _, kind = suite.partition("-")
        if kind == "security" and release in _DEBIAN_SUITES and "main" in comps and uri.startswith(_SCHEMES):
            return uri.rstrip("/")
    return DEFAULT_SECURITY_MIRROR


def deb822_sources(suite: str, mirror: str, security: str, keyring: str) -> str:
    """``/etc/apt/sources.list.d/debian.sources`` as the official Debian images write it (deb822): the release and
    its ``-updates`` from ``mirror``, ``-security`` from ``security``, ``main`` only, signed by ``keyring``."""
    stanzas = [(mirror, f"{suite} {suite}-updates"), (security, f"{suite}-security")]
    return "\n".join(
        f"Types: deb\nURIs: {uri}\nSuites: {suites}\nComponents: main\nSigned-By: {keyring}\n"
        for uri, suites in stanzas
    )
