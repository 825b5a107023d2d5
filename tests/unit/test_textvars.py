"""helpers.textvars: the one linear-time ``${NAME}`` substitution (Dockerfile and Compose files use it)."""

from __future__ import annotations

import re
import time

from helpers.textvars import substitute

BRACED = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")
BARE = re.compile(r"\$()()(\w+)")


def _value(m: re.Match[str]) -> str:
    return {"A": "1"}.get(m.group(1) or m.group(3)) or (m.group(2) or "?")


def test_substitutes_braced_bare_and_defaults():
    """Are ${A}, $A and ${B:-x} replaced, and text without variables kept?"""
    assert substitute("${A}-$A-${B:-x}-plain $", BRACED, BARE, _value) == "1-1-x-plain $"


def test_an_unclosed_brace_falls_back_to_bare_names():
    """With no `}` left, is `$A` still found and `${` kept as text?"""
    assert substitute("${A $A", BRACED, BARE, _value) == "${A 1"


def test_hostile_text_takes_linear_time():
    """Does 64 KB of `${a:-` with no closing brace substitute in well under a second?"""
    text = "${a:-" * (64 * 1024 // 5)
    start = time.perf_counter()
    substitute(text, BRACED, BARE, _value)
    assert time.perf_counter() - start < 0.5
