"""``$NAME`` / ``${NAME...}`` substitution as Dockerfiles and Compose files write it, in linear time.

Both formats are often a student's text. ``pattern.sub`` alone is quadratic on ``${a:-${a:-...`` with no
``}``: each ``$`` rescans to the end. :func:`substitute` lets a match look no further than the next ``}``
(and, with none left, only for a bare ``$NAME``), so a ``${NAME:-`` that reaches a ``}`` matches and
consumes up to it. Each format keeps its own patterns (which names, which default forms) and says what a
match becomes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["substitute"]


def substitute(
    text: str, braced: re.Pattern[str], bare: re.Pattern[str], replace: Callable[[re.Match[str]], str]
) -> str:
    """Replace every variable reference of ``text``.

    Args:
        text: The text.
        braced: Matches ``${...}`` and ``$NAME`` references (tried with the text cut after the next ``}``).
        bare: Matches a ``$NAME`` reference, used once no ``}`` is left.
        replace: What one match becomes.
    """
    out, i = [], 0
    close = text.find("}")  # the first `}` at or after the current `$` (-1: none left, for good)
    while (j := text.find("$", i)) >= 0:
        if 0 <= close < j:
            close = text.find("}", j)
        m = braced.match(text, j, close + 1) if close >= 0 else bare.match(text, j)
        if m is None:
            out.append(text[i : j + 1])
            i = j + 1
            continue
        out.append(text[i:j] + replace(m))
        i = m.end()
    out.append(text[i:])
    return "".join(out)
