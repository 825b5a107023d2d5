"""GitHub Actions expressions (``${{ ... }}`` and ``if:``) evaluated for one graded run, without running anything.

Enough of the expression language for the workflows a course lab asks for: the ``github`` context's scalars
(``github.sha``, ``github.ref``, ``github.ref_name``, ``github.event_name``, ``github.actor``,
``github.repository``, ``github.repository_owner``), ``env.X``, ``secrets.X`` (a placeholder: the grader logs in
with its own credentials), ``steps.ID.outputs.X`` of steps the replay understood, string and boolean literals,
``== != ! && || ( )`` and the status functions ``success() failure() always() cancelled()``. Anything else raises
:class:`ExpressionRefused` naming the part. Bounded: an expression is at most :data:`MAX_EXPR` characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["ExpressionRefused", "Context", "evaluate", "condition", "substitute", "UNKNOWN", "MAX_EXPR"]

MAX_EXPR = 500
#: What an expression the replay does not know becomes in a text (a command using it is refused, naming it).
UNKNOWN = "\x00expr:"
_TOKEN = re.compile(r"\s*(?:(==|!=|&&|\|\||!|\(|\))|'((?:[^']|'')*)'|([A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*))")
_STATUS = ("success", "failure", "always", "cancelled")
_EXPR = re.compile(r"\$\{\{(.{0,500}?)\}\}", re.S)  # 500: MAX_EXPR
_GITHUB = ("sha", "ref", "ref_name", "event_name", "actor", "repository", "repository_owner", "workflow", "head_ref")


class ExpressionRefused(Exception):
    """An expression the replay does not evaluate (the message names the part)."""


@dataclass
class Context:
    """What the expressions of one graded run see."""

    github: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: bool = False


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value) tokens: op, str, name; a character outside the language is refused."""
    out, i = [], 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = _TOKEN.match(text, i)
        if not m:
            raise ExpressionRefused(f"`{text[i : i + 20].strip()}`: not part of the expressions the grader evaluates")
        op, s, name = m.groups()
        out.append(("op", op) if op else ("str", s.replace("''", "'")) if s is not None else ("name", name))
        i = m.end()
    return out


class _Parser:
    """Recursive descent: or := and (|| and)*; and := not (&& not)*; not := ! not | cmp; cmp := prim (==|!= prim)?"""

    def __init__(self, tokens: list[tuple[str, str]], ctx: Context) -> None:
        self.t, self.i, self.ctx = tokens, 0, ctx

    def peek(self) -> tuple[str, str]:
        return self.t[self.i] if self.i < len(self.t) else ("end", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.i += 1
        return tok

    def or_(self) -> str | bool:
        v = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            w = self.and_()
            v = v if v else w
        return v

    def and_(self) -> str | bool:
        v = self.not_()
        while self.peek() == ("op", "&&"):
            self.take()
            w = self.not_()
            v = w if v else v
        return v

    def not_(self) -> str | bool:
        if self.peek() == ("op", "!"):
            self.take()
            return not self.not_()
        v = self.prim()
        if self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            w = self.prim()
            same = str(v).lower() == str(w).lower()
            return same if op == "==" else not same
        return v

    def prim(self) -> str | bool:
        kind, value = self.take()
        if (kind, value) == ("op", "("):
            v = self.or_()
            if self.take() != ("op", ")"):
                raise ExpressionRefused("an unclosed `(`")
            return v
        if kind == "str":
            return value
        if kind != "name":
            raise ExpressionRefused(f"`{value or 'end of expression'}` where a value was expected")
        if value in ("true", "false"):
            return value == "true"
        if value in _STATUS and self.peek() == ("op", "("):
            self.take()
            if self.take() != ("op", ")"):
                raise ExpressionRefused(f"`{value}(...)`: the status functions take no argument")
            return {"success": not self.ctx.failed, "failure": self.ctx.failed, "always": True}.get(value, False)
        return self.name(value)

    def name(self, value: str) -> str:
        parts = value.split(".")
        if parts[0] == "github" and len(parts) == 2 and parts[1] in _GITHUB:
            return self.ctx.github.get(parts[1], "")
        if parts[0] == "env" and len(parts) == 2:
            return self.ctx.env.get(parts[1], "")
        if parts[0] == "secrets" and len(parts) == 2:
            return "***"
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs" and parts[1] in self.ctx.steps:
            return self.ctx.steps[parts[1]].get(parts[3], "")
        raise ExpressionRefused(
            f"`{value[:60]}`: the grader evaluates github.sha/ref/ref_name/event_name/actor/repository(_owner), "
            "env.X, secrets.X and steps.ID.outputs.X of the actions it understands"
        )


def evaluate(expr: str, ctx: Context) -> str | bool:
    """The value of one expression (without ``${{ }}``).

    Raises:
        ExpressionRefused: Outside the supported language (the message names the part).
    """
    expr = expr.strip()
    if len(expr) > MAX_EXPR:
        raise ExpressionRefused(f"an expression of {len(expr)} characters (at most {MAX_EXPR})")
    parser = _Parser(_tokens(expr), ctx)
    value = parser.or_()
    if parser.peek()[0] != "end":
        raise ExpressionRefused(f"`{parser.peek()[1]}` after a complete expression in `{expr[:60]}`")
    return value


def condition(cond: object, ctx: Context) -> bool:
    """Whether an ``if:`` holds: GitHub wraps a condition without a status function in ``success() && (...)``."""
    if cond is None or cond == "":
        return not ctx.failed
    if isinstance(cond, bool):
        return cond and not ctx.failed
    text = str(cond).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    value = bool(evaluate(text, ctx))
    if not any(re.search(rf"\b{f}\s*\(", text) for f in _STATUS):
        value = value and not ctx.failed
    return value


def substitute(text: str, ctx: Context) -> str:
    """``text`` with every ``${{ expr }}`` replaced by its value (booleans as ``true``/``false``).

    An expression the replay does not evaluate becomes ``UNKNOWN + expr``: a command that uses it is refused
    (naming it), and a line the replay never runs (an ``echo``) is harmless.
    """

    def one(m: re.Match[str]) -> str:
        try:
            value = evaluate(m.group(1), ctx)
        except ExpressionRefused:
            return UNKNOWN + m.group(1).strip()[:60] + "\x00"
        return ("true" if value else "false") if isinstance(value, bool) else value

    return _EXPR.sub(one, text)
