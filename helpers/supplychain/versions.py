"""Version ordering per ecosystem: dpkg (Debian), PEP 440 (PyPI), apk (Alpine, approximated).

Advisories say "fixed in X"; whether an installed version is older than X depends on the
ecosystem's own rules. ``1.2~rc1`` sorts *before* ``1.2`` for dpkg; ``1.2rc1`` before ``1.2``
for PEP 440; a plain string comparison gets both wrong.
"""

from __future__ import annotations

import re

__all__ = ["dpkg_compare", "pep440_compare", "compare_versions"]


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if not c:
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    """dpkg's ``verrevcmp``: compare one upstream version or one revision."""
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


_EPOCH = re.compile(r"^(\d+):(.*)$")


def _split(version: str) -> tuple[int, str, str]:
    version = version.strip()
    epoch = 0
    if m := _EPOCH.match(version):
        epoch, version = int(m.group(1)), m.group(2)
    upstream, sep, revision = version.rpartition("-")
    if not sep:
        upstream, revision = version, ""
    return epoch, upstream, revision


def dpkg_compare(a: str, b: str) -> int:
    """Compare two Debian package versions the way ``dpkg --compare-versions`` does.

    Args:
        a: A version such as ``1:2.5.0-1+deb12u2``.
        b: Another version.

    Returns:
        A negative number when ``a < b``, 0 when equal, positive when ``a > b``.
    """
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return ea - eb
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


def pep440_compare(a: str, b: str) -> int:
    """Compare two Python package versions with PEP 440 rules (``packaging``).

    Versions that are not PEP 440 (legacy) compare as plain strings, after the valid ones.
    """
    from packaging.version import InvalidVersion, Version

    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        return (a > b) - (a < b)
    return (va > vb) - (va < vb)


def compare_versions(ecosystem: str, a: str, b: str) -> int:
    """Compare two versions with the rules of an OSV ecosystem ("PyPI", "Debian:12", "Alpine:v3.19").

    Alpine's apk ordering is close enough to dpkg's for ``-rN`` revisions that dpkg's
    algorithm is used for it.
    """
    eco = ecosystem.split(":")[0].lower()
    if eco == "pypi":
        return pep440_compare(a, b)
    return dpkg_compare(a, b)
