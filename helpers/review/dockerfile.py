"""A Dockerfile parser good enough for reviewing real-world files.

Handles parser directives (``# syntax=``, ``# escape=``), comments (also inside
continuations), line continuations, heredocs (``<<EOF``, ``<<-EOF``, quoted delimiters),
JSON and shell forms, flags (``--from=``, ``--mount=``), lower-case instructions,
``ARG`` before ``FROM``, multi-stage builds and Windows line endings. Errors are
:class:`~helpers.errors.DockerfileError` with the line number.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from helpers.errors import DockerfileError
from helpers.textvars import substitute

__all__ = ["Instruction", "Stage", "Dockerfile", "parse_dockerfile", "read_dockerfile", "INSTRUCTIONS"]

INSTRUCTIONS = frozenset(
    "FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD "
    "STOPSIGNAL HEALTHCHECK SHELL".split()
)
# The value is taken whole and stripped in Python: `\s*(.*?)\s*$` backtracks quadratically on a long
# run of blanks inside the value (a student's Dockerfile is untrusted text).
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=(.*)$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_BARE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_FLAG = re.compile(r"^--([a-z-]+)(?:=(\S*))?$")


@dataclass
class Instruction:
    """One instruction.

    Attributes:
        keyword: Upper-case keyword (``RUN``).
        args: The arguments as one string, continuations joined with a space, comments removed.
        line: 1-based line of the keyword; ``end_line`` is the last line (heredocs included).
        flags: Leading ``--name=value`` flags.
        json_args: The JSON (exec) form as a list, or None for the shell form.
        heredocs: Bodies of heredocs, in order.
        stage: Index of the stage it belongs to (-1 for ARG before the first FROM).
    """

    keyword: str
    args: str
    line: int
    end_line: int
    flags: dict[str, str] = field(default_factory=dict)
    json_args: list[str] | None = None
    heredocs: list[str] = field(default_factory=list)
    stage: int = -1
    original: str = ""

    @property
    def command(self) -> str:
        """The arguments without flags, with heredoc bodies appended (what runs / what is copied)."""
        return " ".join([_strip_flags(self.args)] + self.heredocs)


@dataclass
class Stage:
    """A build stage: its FROM line, base image, optional name and instructions."""

    index: int
    base: str
    name: str
    line: int
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    """A parsed Dockerfile."""

    instructions: list[Instruction]
    stages: list[Stage]
    directives: dict[str, str]
    global_args: dict[str, str]

    @property
    def final(self) -> Stage:
        """The last stage (the one the image is built from)."""
        return self.stages[-1]

    def resolve(self, text: str) -> str:
        """Replace ``${NAME}`` / ``$NAME`` with the default of a global ARG, when it has one."""
        return _substitute(text, self.global_args)


def _substitute(text: str, values: dict[str, str]) -> str:
    """Replace ``${NAME}``, ``${NAME:-...}`` and ``$NAME`` that have a value; leave the others as written."""
    return substitute(text, _VAR, _BARE, lambda m: values.get(m.group(m.lastindex or 0)) or m.group(0))


def _strip_flags(args: str) -> str:
    """The arguments without their leading ``--flags``."""
    parts = args.split(" ")
    while parts and parts[0].startswith("--"):
        parts.pop(0)
    return " ".join(parts).strip()


def read_dockerfile(path: str | Path) -> Dockerfile:
    """Read and parse a Dockerfile from disk.

    Raises:
        DockerfileError: The file is missing, unreadable, or not a valid Dockerfile.
    """
    p = Path(path)
    if not p.is_file():
        raise DockerfileError(f"No Dockerfile at {p}.", hint="Check the path.")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise DockerfileError(f"{p} is not a text file (not UTF-8).", hint="Pass a Dockerfile.") from e
    return parse_dockerfile(text)


def parse_dockerfile(text: str) -> Dockerfile:
    """Parse Dockerfile text.

    Args:
        text: The Dockerfile's contents.

    Returns:
        The :class:`Dockerfile`: instructions, stages, parser directives and global ARGs.

    Raises:
        DockerfileError: Empty, unknown instruction, broken continuation or heredoc, no FROM.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    directives, i = _directives(lines)
    escape = directives.get("escape", "\\") or "\\"
    instructions: list[Instruction] = []
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        ins, i = _instruction(lines, i, escape, first=not instructions)
        _flags_and_form(ins)
        instructions.append(ins)
    return _stages(instructions, directives)


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    """The parser directives at the top (``# syntax=``, ``# escape=``), and the index of the first other line."""
    directives: dict[str, str] = {}
    i = 0
    while i < len(lines) and (m := _DIRECTIVE.match(lines[i].strip())) and m.group(1).lower() not in directives:
        directives[m.group(1).lower()] = m.group(2).strip()
        i += 1
    return directives, i


def _instruction(lines: list[str], start: int, escape: str, first: bool) -> tuple[Instruction, int]:
    """The instruction starting at ``lines[start]`` (continuations and heredocs included), and the next index."""
    parts, i = _continued(lines, start, escape)
    logical = " ".join(p.strip() for p in parts if p.strip())
    keyword, _, args = logical.partition(" ")
    upper = keyword.upper()
    if upper not in INSTRUCTIONS:
        hint = (
            "This does not look like a Dockerfile."
            if first
            else f"Known instructions: {', '.join(sorted(INSTRUCTIONS))}."
        )
        raise DockerfileError(f"unknown instruction {keyword[:40]!r}.", line=start + 1, hint=hint)
    ins = Instruction(upper, args.strip(), start + 1, i, original="\n".join(lines[start:i]))
    if upper in ("RUN", "COPY", "ADD", "ONBUILD"):
        for m in _HEREDOC.finditer(args):
            body, i = _heredoc(lines, i, m.group(3), strip_tabs=bool(m.group(1)), start=start)
            ins.heredocs.append(body)
        ins.end_line = i
    return ins, i


def _continued(lines: list[str], start: int, escape: str) -> tuple[list[str], int]:
    """The physical lines of one logical line (escape character removed), and the index after them.

    Comments and empty lines inside a continuation are skipped, as docker does.
    """
    parts = []
    i = start
    line = lines[i]
    while (body := line.rstrip()).endswith(escape):
        parts.append(body[:-1])
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
            i += 1
        if i >= len(lines):
            raise DockerfileError(
                "the line continuation never ends (the file ends after a backslash).",
                line=start + 1,
                hint="Remove the trailing backslash or add the next line.",
            )
        line = lines[i]
    parts.append(body)
    return parts, i + 1


def _heredoc(lines: list[str], i: int, word: str, strip_tabs: bool, start: int) -> tuple[str, int]:
    """The body of a heredoc starting at ``lines[i]`` and ending with ``word``, and the index after it."""
    body: list[str] = []
    while True:
        if i >= len(lines):
            raise DockerfileError(
                f"the heredoc <<{word} is never closed.",
                line=start + 1,
                hint=f"End it with a line holding only {word}.",
            )
        cur = lines[i].lstrip("\t") if strip_tabs else lines[i]
        i += 1
        if cur == word:
            return "\n".join(body), i
        body.append(cur)


def _flags_and_form(ins: Instruction) -> None:
    """Fill in the leading ``--flags`` and the JSON (exec) form, when the instruction has them."""
    rest = ins.args
    if ins.keyword in ("FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"):
        tokens = rest.split()
        while tokens and (m := _FLAG.match(tokens[0])):
            ins.flags[m.group(1)] = m.group(2) or "true"
            tokens.pop(0)
        rest = " ".join(tokens)
    if ins.keyword in ("RUN", "CMD", "ENTRYPOINT", "COPY", "ADD", "VOLUME", "SHELL") and rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            return  # docker treats a broken JSON form as a shell form
        if isinstance(value, list) and all(isinstance(x, str) for x in value):
            ins.json_args = value


def _stages(instructions: list[Instruction], directives: dict[str, str]) -> Dockerfile:
    """Group the instructions into stages (one per FROM) and collect the ARGs declared before the first FROM."""
    if not instructions:
        raise DockerfileError("the Dockerfile is empty (no instructions).", hint="Start it with a FROM line.")
    stages: list[Stage] = []
    global_args: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "FROM":
            words = _strip_flags(ins.args).split()
            if not words:
                raise DockerfileError("FROM needs an image.", line=ins.line, hint="Write e.g. FROM python:3.12-slim.")
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else ""
            stages.append(Stage(len(stages), words[0], name, ins.line))
        elif not stages:
            if ins.keyword != "ARG":
                raise DockerfileError(
                    f"{ins.keyword} comes before the first FROM.", line=ins.line, hint="Only ARG may come before FROM."
                )
            for decl in ins.args.split():
                k, _, v = decl.partition("=")
                global_args[k] = v.strip("\"'")
        if stages:
            ins.stage = len(stages) - 1
            stages[-1].instructions.append(ins)
    return Dockerfile(instructions, stages, directives, global_args)
