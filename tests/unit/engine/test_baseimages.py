"""Unit tests for helpers.engine.baseimages' Dockerfile reading: right answers, in linear time on hostile text."""

from __future__ import annotations

import time

import pytest

from helpers.engine.baseimages import (
    DEFAULT_DEBIAN_MIRROR,
    DEFAULT_FAMILY,
    DEFAULT_SECURITY_MIRROR,
    FAMILIES,
    _deb822_sources,
    apt_sources,
    base_family,
    deb822_sources,
    debian_mirror,
    official_arg_defaults,
    security_mirror,
)
from helpers.errors import SetupError

N = 64 * 1024


def test_arg_defaults_naming_official_images():
    """Are ARGs defaulting to an official Python image found (indented, quoted, -bookworm/-trixie), others not?"""
    text = (
        "ARG BASE_IMAGE=python:3.12-slim\n"
        '  arg BUILDER="python:3.12"\n'
        "ARG OTHER=python:3.12-slim-bookworm\n"
        "ARG NEWER=python:3.12-trixie\n"
        "ARG NOPE=debian:bookworm\n"
        "RUN echo ARG X=python:3.12\n"
        "ARG\n"
        "ARG EMPTY=\n"
    )
    assert official_arg_defaults(text) == {
        "BASE_IMAGE": "slim",
        "BUILDER": "full",
        "OTHER": "slim",
        "NEWER": "full",
    }


@pytest.mark.parametrize(
    "text",
    [
        "\n" * N,
        " \n" * (N // 2),
        " " * N,
        "\t\n\r" * (N // 3),
        "ARG " * (N // 4),
        "ARG " + "A" * N,
        "\nARG " * (N // 5),
    ],
    ids=["newlines", "blank-lines", "spaces", "mixed", "arg-words", "long-name", "arg-lines"],
)
def test_arg_parsing_is_linear(text: str):
    """Does reading 64 KB of hostile whitespace or ARG lines take well under a second (was ~40 s)?"""
    start = time.perf_counter()
    official_arg_defaults(text + "ARG B=python:3.12\n")
    assert time.perf_counter() - start < 0.5


# --- the host's Debian mirror (debootstrap of the local stand-ins) ---

ONE_LINE = """\
# the site's mirror, behind the proxy
deb [arch=amd64 signed-by=/etc/keys/debian.gpg] http://mirror.example.org/debian/ bookworm main contrib
deb-src http://src.example.org/debian bookworm main
deb http://security.example.org/debian-security bookworm-security main
deb http://mirror.example.org/debian bookworm-updates main
"""

DEB822 = """\
Types: deb
# a comment inside a stanza does not end it
URIs: http://deb822.example.org/debian
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: https://first.example.org/debian
 https://second.example.org/debian
Suites: bookworm
Components: main non-free-firmware

Types: deb
URIs: http://disabled.example.org/debian
Suites: bookworm
Components: main
Enabled: no
"""


def _etc(tmp_path, sources_list: str = "", **parts: str):
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    if sources_list:
        (etc / "sources.list").write_text(sources_list)
    for name, text in parts.items():
        (etc / "sources.list.d" / name.replace("_", ".")).write_text(text)
    return etc


@pytest.fixture(autouse=True)
def _no_mirror_override(monkeypatch):
    for name in ("COURSE_DEBIAN_MIRROR", "COURSE_DEBIAN_SECURITY_MIRROR", "COURSE_BASE_FAMILY"):
        monkeypatch.delenv(name, raising=False)


def test_one_line_sources_list(tmp_path):
    """Options in brackets, comments, deb-src and security/updates suites: only the bookworm main mirror is picked."""
    etc = _etc(tmp_path, ONE_LINE)
    assert ("http://mirror.example.org/debian/", "bookworm", ["main", "contrib"]) in apt_sources(etc)
    assert not any(uri.startswith("http://src.") for uri, _, _ in apt_sources(etc))
    assert debian_mirror("bookworm", etc) == "http://mirror.example.org/debian"


def test_deb822_sources(tmp_path):
    """Multi-line URIs, several suites, a comment inside a stanza and a disabled stanza."""
    etc = _etc(tmp_path, debian_sources=DEB822)
    sources = apt_sources(etc)
    assert ("https://second.example.org/debian", "bookworm", ["main", "non-free-firmware"]) in sources
    assert ("http://deb822.example.org/debian", "trixie-updates", ["main"]) in sources
    assert not any("disabled" in uri for uri, _, _ in sources)
    assert debian_mirror("bookworm", etc) == "https://first.example.org/debian"
    assert debian_mirror("trixie", etc) == "http://deb822.example.org/debian"


def test_a_mirror_for_another_debian_release_is_used(tmp_path):
    """A trixie host's mirror serves bookworm too: better than the public default behind a proxy."""
    etc = _etc(tmp_path, site_sources=DEB822.split("\n\n")[0] + "\n")
    assert debian_mirror("bookworm", etc) == "http://deb822.example.org/debian"


def test_both_formats_together_keep_apts_order(tmp_path):
    etc = _etc(tmp_path, ONE_LINE, z_sources=DEB822, extra_list="deb http://list-d.example.org/debian bookworm main\n")
    uris = [uri for uri, suite, _ in apt_sources(etc) if suite == "bookworm"]
    assert uris[0] == "http://mirror.example.org/debian/"
    assert uris.index("http://list-d.example.org/debian") < uris.index("https://first.example.org/debian")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "deb http://archive.ubuntu.com/ubuntu noble main universe\n",
        "deb http://security.debian.org/debian-security bookworm-security main\n",
        "deb cdrom:[Debian 12]/ bookworm main\n",
        "deb http://mirror.example.org/debian bookworm contrib\n",
        "deb http://mirror.example.org/debian\n",
    ],
    ids=["empty", "ubuntu", "security-only", "cdrom", "no-main", "truncated"],
)
def test_falls_back_to_debootstraps_default(tmp_path, text):
    assert debian_mirror("bookworm", _etc(tmp_path, text)) == DEFAULT_DEBIAN_MIRROR


def test_no_apt_directory_and_the_override(tmp_path, monkeypatch):
    assert debian_mirror("bookworm", tmp_path / "missing") == DEFAULT_DEBIAN_MIRROR
    monkeypatch.setenv("COURSE_DEBIAN_MIRROR", "http://override.example.org/debian")
    assert debian_mirror("bookworm", _etc(tmp_path, ONE_LINE)) == "http://override.example.org/debian"


# --- the security archive and the deb822 sources the stand-ins carry ---


def test_security_mirror_from_either_format(tmp_path):
    """The host's <release>-security source is used (one-line or deb822); none: the official images' default."""
    assert security_mirror(_etc(tmp_path, ONE_LINE)) == "http://security.example.org/debian-security"
    sec822 = "Types: deb\nURIs: http://sec822.example.org/debian-security/\nSuites: trixie-security\nComponents: main\n"
    assert security_mirror(_etc(tmp_path / "b", debian_sources=sec822)) == "http://sec822.example.org/debian-security"
    assert security_mirror(_etc(tmp_path / "c", DEB822)) == DEFAULT_SECURITY_MIRROR


def test_security_mirror_override(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DEBIAN_SECURITY_MIRROR", "http://override.example.org/debian-security")
    assert security_mirror(_etc(tmp_path, ONE_LINE)) == "http://override.example.org/debian-security"


def test_deb822_sources_read_back_as_the_official_images_list():
    """Does the written debian.sources parse to the release and -updates from the mirror, -security from its own?"""
    text = deb822_sources("trixie", "http://m.example.org/debian", "http://s.example.org/debian-security", "/k.pgp")
    assert list(_deb822_sources(text)) == [
        ("http://m.example.org/debian", "trixie", ["main"]),
        ("http://m.example.org/debian", "trixie-updates", ["main"]),
        ("http://s.example.org/debian-security", "trixie-security", ["main"]),
    ]
    assert text.count("Signed-By: /k.pgp") == 2 and "\n\nTypes: deb\n" in text


def test_base_family_setting(monkeypatch):
    """Default bookworm; COURSE_BASE_FAMILY picks another; an unknown name is an error saying what to set."""
    assert base_family() == DEFAULT_FAMILY == "bookworm"
    monkeypatch.setenv("COURSE_BASE_FAMILY", "Trixie")
    assert base_family() == "trixie" and FAMILIES["trixie"]["slim"] == "course-base/python:3.13-slim-trixie"
    assert base_family("bookworm") == "bookworm"
    monkeypatch.setenv("COURSE_BASE_FAMILY", "jammy")
    with pytest.raises(SetupError, match="jammy") as err:
        base_family()
    assert "COURSE_BASE_FAMILY" in err.value.hint
