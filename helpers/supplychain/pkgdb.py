"""Package databases inside an image: dpkg ``status`` (and ``status.d/``), apk ``installed``, Python dists.

:class:`PackageDb` takes an image's files layer by layer, bottom first, the way the image's
file system is built: a later layer's database replaces the earlier one, a whiteout deletes
what it covers, and each package version is attributed to the first layer that had it. It is
fed by :func:`helpers.supplychain.sbom.read_sbom_archive`; the parsers are usable on their own.
"""

from __future__ import annotations

import re
from email.parser import Parser
from posixpath import basename, dirname

from helpers.supplychain.bom import Package

__all__ = ["PackageDb", "parse_dpkg_status", "parse_apk_installed", "parse_os_release"]

_DIST = re.compile(r"(?:^|/)(?:site|dist)-packages/([^/]+)\.(dist-info|egg-info)(?:/(METADATA|PKG-INFO))?$")
_DPKG = "var/lib/dpkg/status"
_APK = "lib/apk/db/installed"


def parse_dpkg_status(text: str) -> list[dict[str, str]]:
    """Parse a dpkg ``status`` file into stanzas of installed packages."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                continue
            k, _, v = line.partition(":")
            key = k.strip()
            fields[key] = v.strip()
        if "Package" in fields and "installed" in fields.get("Status", "install ok installed"):
            src = fields.get("Source", fields["Package"])
            m = re.match(r"(\S+)(?:\s+\((.+)\))?", src)
            fields["_source"] = m.group(1) if m else fields["Package"]
            fields["_source_version"] = m.group(2) if m and m.group(2) else fields.get("Version", "")
            out.append(fields)
    return out


def parse_apk_installed(text: str) -> list[dict[str, str]]:
    """Parse Alpine's ``lib/apk/db/installed`` (P: name, V: version, o: origin)."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        f = {ln[0]: ln[2:] for ln in block.splitlines() if len(ln) > 2 and ln[1] == ":"}
        if "P" in f and "V" in f:
            out.append(f)
    return out


def parse_os_release(text: str) -> dict[str, str]:
    """``/etc/os-release`` as a dict with lower-case keys (``{"id": "debian", "version_id": "12"}``)."""
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition("=")
        if k:
            out[k.strip().lower()] = v.strip().strip('"')
    return out


def _kind(name: str) -> str:
    """Which database a file is ("" for none): os, dpkg, statusd, apk or dist."""
    if name in ("etc/os-release", "usr/lib/os-release"):
        return "os"
    if name == _DPKG:
        return "dpkg"
    if name.startswith(_DPKG + ".d/") and not name.endswith(".md5sums"):
        return "statusd"
    if name == _APK:
        return "apk"
    mm = _DIST.search(name)
    if mm and not (mm.group(2) == "dist-info" and mm.group(3) != "METADATA"):
        return "dist"
    return ""


class PackageDb:
    """The packages an image's layers install, applied layer by layer (bottom first).

    Attributes:
        os: ``/etc/os-release`` of the image ({} until one is seen).
    """

    def __init__(self) -> None:
        self.os: dict[str, str] = {}
        self._first: dict[tuple[str, str, str], int] = {}  # (type, name, version) -> first layer
        self._dpkg: list[dict[str, str]] = []
        self._statusd: dict[str, list[dict[str, str]]] = {}
        self._apk: list[dict[str, str]] = []
        self._dists: dict[str, tuple[Package, int]] = {}

    @staticmethod
    def wants(name: str) -> bool:
        """True when the file ``name`` (relative, no leading slash) is a package database to read."""
        return bool(_kind(name))

    def whiteout(self, name: str) -> None:
        """Apply a whiteout entry (``.wh.NAME`` or ``.wh..wh..opq``) of a later layer."""
        base, parent = basename(name), dirname(name)
        gone = parent if base == ".wh..wh..opq" else f"{parent}/{base[4:]}"
        for table in (self._dists, self._statusd):
            for key in [k for k in table if k == gone or k.startswith(gone + "/")]:
                del table[key]

    def add(self, layer: int, name: str, text: str) -> None:
        """Read the database file ``name`` of layer ``layer`` (see :meth:`wants`)."""
        kind = _kind(name)
        if kind == "os" and (name == "etc/os-release" or not self.os):
            self.os = parse_os_release(text)
        elif kind == "dpkg":
            self._dpkg = self._seen(layer, "deb", parse_dpkg_status(text))
        elif kind == "statusd":
            self._statusd[name] = self._seen(layer, "deb", parse_dpkg_status(text))
        elif kind == "apk":
            self._apk = self._seen(layer, "apk", parse_apk_installed(text))
        elif kind == "dist":
            self._add_dist(layer, name, text)

    def _seen(self, layer: int, kind: str, stanzas: list[dict[str, str]]) -> list[dict[str, str]]:
        for st in stanzas:
            key = (st["Package"], st.get("Version", "")) if kind == "deb" else (st["P"], st["V"])
            self._first.setdefault((kind, *key), layer)
        return stanzas

    def _add_dist(self, layer: int, name: str, text: str) -> None:
        meta = Parser().parsestr(text, headersonly=True)
        if meta.get("Name") and meta.get("Version"):
            mm = _DIST.search(name)
            key = name.rsplit("/", 1)[0] if mm and mm.group(3) else name
            self._dists[key] = (Package(meta["Name"], meta["Version"], "pypi", location=name), layer)

    def packages(self) -> list[tuple[Package, int]]:
        """Each installed package with the index of the layer that added its version (-1 if unknown)."""
        rows: list[tuple[Package, int]] = []
        for st in self._dpkg + [s for v in self._statusd.values() for s in v]:
            version = st.get("Version", "")
            pkg = Package(st["Package"], version, "deb", st["_source"], st["_source_version"], location=_DPKG)
            rows.append((pkg, self._first.get(("deb", st["Package"], version), -1)))
        for st in self._apk:
            pkg = Package(st["P"], st["V"], "apk", st.get("o", st["P"]), st["V"], location=_APK)
            rows.append((pkg, self._first.get(("apk", st["P"], st["V"]), -1)))
        rows.extend(self._dists.values())
        return rows
