"""Bash's word splitting for a script, without running anything: quotes, variables, continuations.

Enough of bash for the lines Lab 4's ``publish.sh`` (:mod:`helpers.grading.labs.publishscript`) and Lab 5's
workflow steps (:mod:`helpers.ci.replayplan`) are made of: single quotes (literal), double quotes and bare words
(``$X``, ``${X}``, ``${X:-default}``, ``${X,,}``/``${X^^}`` expanded from a dict), backslash escapes,
backslash-newline continuations, comments, here-document bodies skipped, and the operators
``| || & && ; < > >>`` as words of their own. Command substitution (``$(...)``, backquotes) and other expansions
raise :class:`ShellUnsupported`: the caller reports the line instead of guessing. One pass per line; lines and
their count are capped by the caller's limits.
"""

from __future__ import annotations

import re

__all__ = ["ShellUnsupported", "logical_lines", "split_words", "commands", "without_redirections", "NAME", "SEPARATORS"]

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: The operators that end one command of a list (pipes stay inside a command).
SEPARATORS = {";", "&&", "||", "&"}


class ShellUnsupported(Exception):
    """A line uses shell syntax the reader does not follow (the line is ignored, with this reason)."""


def logical_lines(text: str, max_lines: int = 400, max_chars: int = 4000) -> list[tuple[int, str]]:
    """(first line number, text) per logical line: backslash-newline joined, heredoc bodies dropped."""
    out: list[tuple[int, str]] = []
    buf, start, heredoc = "", 0, ""
    for n, raw in enumerate(text.splitlines()[:max_lines], start=1):
        if heredoc:
            heredoc = "" if raw.strip() == heredoc else heredoc
            continue
        if not buf:
            start = n
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            buf += raw[:-1]
            continue
        buf += raw
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)", buf)
        heredoc = m.group(1) if m else ""
        out.append((start, buf[:max_chars]))
        buf = ""
    if buf:
        out.append((start, buf[:max_chars]))
    return out


def _expand(src: str, i: int, env: dict[str, str], unknown: set[str]) -> tuple[str, int]:
    """Expand the ``$...`` at ``src[i]``; returns (value, index after it)."""
    if src.startswith("$(", i) or src.startswith("$((", i):
        raise ShellUnsupported("command substitution: the grader does not run it")
    if src.startswith("${", i):
        end = src.find("}", i)
        if end < 0:
            raise ShellUnsupported("unclosed ${")
        body = src[i + 2 : end]
        case = body[-2:] if body[-2:] in (",,", "^^") else ""
        name, sep, default = body[: len(body) - len(case)].partition(":-")
        if not NAME.fullmatch(name) or (case and sep):
            raise ShellUnsupported(
                f"${{{body[:20]}}}: only $NAME, ${{NAME}}, ${{NAME:-default}} and ${{NAME,,}} are read"
            )
        if name not in env:
            unknown.add(name)
        value = env.get(name) or (default if sep else "")
        return {",,": value.lower(), "^^": value.upper()}.get(case, value), end + 1
    m = NAME.match(src, i + 1)
    if not m:
        return "$", i + 1
    if m.group() not in env:
        unknown.add(m.group())
    return env.get(m.group(), ""), m.end()


def split_words(src: str, env: dict[str, str], unknown: set[str]) -> list[str]:
    """Split one logical line into words and operators the way bash would, expanding variables.

    Operators come back as themselves (``|``, ``;``, ``&&``, ``<``...); a ``#`` starting a word ends the line.
    """
    words: list[str] = []
    cur: list[str] | None = None
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t\r":
            if cur is not None:
                words.append("".join(cur))
                cur = None
            i += 1
            continue
        if c == "#" and cur is None:
            break
        if c in "|&;<>":
            if cur is not None:
                words.append("".join(cur))
                cur = None
            op = src[i : i + 2] if src[i : i + 2] in ("&&", "||", ">>", "<<", ">&") else c
            words.append(op)
            i += len(op)
            continue
        if c == "`":
            raise ShellUnsupported("backquotes (command substitution): the grader does not run them")
        cur = cur if cur is not None else []
        if c == "'":
            end = src.find("'", i + 1)
            if end < 0:
                raise ShellUnsupported("unclosed quote")
            cur.append(src[i + 1 : end])
            i = end + 1
        elif c == '"':
            i = _double_quoted(src, i + 1, env, unknown, cur)
        elif c == "\\":
            cur.append(src[i + 1 : i + 2])
            i += 2
        elif c == "$":
            value, i = _expand(src, i, env, unknown)
            cur.append(value)
        else:
            cur.append(c)
            i += 1
    if cur is not None:
        words.append("".join(cur))
    return words


def _double_quoted(src: str, i: int, env: dict[str, str], unknown: set[str], cur: list[str]) -> int:
    """Read a double-quoted part starting after its quote into ``cur``; returns the index after the closing quote."""
    n = len(src)
    while i < n:
        c = src[i]
        if c == '"':
            return i + 1
        if c == "\\" and src[i + 1 : i + 2] in ('"', "\\", "$", "`"):
            cur.append(src[i + 1])
            i += 2
        elif c == "$":
            value, i = _expand(src, i, env, unknown)
            cur.append(value)
        elif c == "`":
            raise ShellUnsupported("backquotes (command substitution): the grader does not run them")
        else:
            cur.append(c)
            i += 1
    raise ShellUnsupported("unclosed quote")


def commands(words: list[str]) -> list[list[str]]:
    """Split words at ``;``, ``&&``, ``||`` and ``&`` into commands (pipes stay inside a command)."""
    out: list[list[str]] = [[]]
    for w in words:
        if w in SEPARATORS:
            out.append([])
        else:
            out[-1].append(w)
    return [c for c in out if c]


def without_redirections(words: list[str]) -> list[str]:
    """Drop ``< file``, ``> file``, ``2>&1``: a reader runs nothing, so nothing is read or written."""
    out: list[str] = []
    skip = False
    for i, w in enumerate(words):
        if skip:
            skip = False
        elif w in ("<", ">", ">>", ">&"):
            skip = True
        elif w.isdigit() and words[i + 1 : i + 2] and words[i + 1] in (">", ">>", ">&", "<"):
            continue
        else:
            out.append(w)
    return out
