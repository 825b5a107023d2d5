"""Version ordering per ecosystem."""

import shutil
import subprocess

import pytest
from ci_rules import unavailable

from helpers.supplychain.versions import compare_versions, dpkg_compare, pep440_compare

VERSIONS = [
    "1.0",
    "1.0-1",
    "1.0~rc1",
    "1.0~rc1-1",
    "1:0.9",
    "1.0+deb12u1",
    "1.0-1+deb12u2",
    "1.0-1+deb12u10",
    "3.0.22-1~deb12u2",
    "3.0.20-1~deb12u2",
    "1.0a",
    "1.0.a",
    "1.0-0",
    "20250419~deb12u2",
    "1.00",
    "0:1.0",
    "1.0-a",
    "10",
    "9",
    "1.0~~",
    "1.0~~a",
    "1.0~",
]


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def test_dpkg_compare_agrees_with_dpkg_on_every_pair():
    """Does dpkg_compare order every pair of versions exactly as `dpkg --compare-versions` does?"""
    if not shutil.which("dpkg"):
        unavailable("dpkg (the reference) is not installed: it exists on every Debian machine")
    wrong = []
    for a in VERSIONS:
        for b in VERSIONS:
            if a > b:
                continue  # each unordered pair once; both directions are checked below
            if subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0:
                expected = -1
            elif subprocess.run(["dpkg", "--compare-versions", a, "eq", b]).returncode == 0:
                expected = 0
            else:
                expected = 1
            if _sign(dpkg_compare(b, a)) != -expected:
                wrong.append((b, a, -expected))
            if _sign(dpkg_compare(a, b)) != expected:
                wrong.append((a, b, expected))
    assert wrong == []


@pytest.mark.parametrize(
    "lower,higher",
    [
        ("1.0~rc1", "1.0"),
        ("1.0", "1.0-1"),
        ("1.5.2-6+deb12u2", "1.5.2-6+deb12u3"),
        ("9", "10"),
        ("1.0-1+deb12u9", "1.0-1+deb12u10"),
        ("2:0.1", "2:0.2"),
        ("3.0.20-1~deb12u2", "3.0.22-1~deb12u2"),
    ],
)
def test_dpkg_known_orderings(lower, higher):
    """Do the orderings a Debian maintainer relies on (tilde, revisions, epochs, deb12uN) hold?"""
    assert dpkg_compare(lower, higher) < 0 < dpkg_compare(higher, lower)


def test_epoch_wins_over_everything():
    """Does an epoch outrank any upstream version?"""
    assert dpkg_compare("1:0.1", "99.0") > 0


@pytest.mark.parametrize(
    "lower,higher",
    [
        ("3.6", "3.7"),
        ("0.109.0", "0.109.1"),
        ("1.0rc1", "1.0"),
        ("1.0", "1.0.post1"),
        ("0.9", "0.10"),
        ("23.0.1", "23.3"),
    ],
)
def test_pep440_orderings(lower, higher):
    """Does PyPI ordering follow PEP 440 (not string order: 0.9 < 0.10)?"""
    assert pep440_compare(lower, higher) < 0
    assert compare_versions("PyPI", lower, higher) < 0


def test_ecosystem_dispatch_differs():
    """Is '1.0~rc1' below '1.0' for Debian but treated with PEP 440 rules for PyPI?"""
    assert compare_versions("Debian:12", "1.0~rc1", "1.0") < 0
    assert compare_versions("PyPI", "0.10", "0.9") > 0
