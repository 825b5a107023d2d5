"""Read Lab 4's ``publish.sh`` without running it: the docker lines the grader may replay, and the rest reported.

The grader must never execute a student's shell script next to an engine socket (that is root on the
grading host). Instead this reader keeps, in order, the lines a publishing script is made of:
``docker login``, ``docker tag``, ``docker push``, ``docker pull`` (also as ``docker image tag|push|pull``),
with the flags listed in :data:`FLAGS`, and plain variable assignments (``VERSION=0.1.0``, ``TAG="sha-$GIT_SHA"``)
plus captures of a pushed image's digest: ``DIGEST=$(docker inspect --format '{{index .RepoDigests 0}}' REF)``
(``repo@sha256:...``) or the digest from the push's own output, ``DIGEST=$(docker push REF | grep -o 'sha256:...')``
(``sha256:...``; the push is replayed, the filters after ``|`` are never run).
Variables expand the way bash expands them (``$X``, ``${X}``, ``${X:-default}``; none inside single quotes).
Everything else (``curl``, ``sh``, ``eval``, other docker commands, loops, command substitutions) is ignored,
never run, and listed in :attr:`Reading.ignored` so the student sees what the grader skipped.

Bounded: at most :data:`MAX_CHARS` characters and :data:`MAX_LINES` lines are read, a variable holds at most
:data:`MAX_VALUE` characters, and at most :data:`MAX_OPS` docker operations are kept; one pass per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from helpers.shellwords import NAME, ShellUnsupported, logical_lines, split_words
from helpers.shellwords import commands as _commands
from helpers.shellwords import without_redirections as _without_redirections

__all__ = [
    "Op",
    "Reading",
    "read_publish_script",
    "DIGEST_MARK",
    "PUSHED_MARK",
    "FLAGS",
    "MAX_CHARS",
    "MAX_LINES",
    "MAX_OPS",
]

MAX_CHARS = 64 * 1024
MAX_LINES = 400
MAX_LINE_CHARS = 4000
MAX_VALUE = 1024
MAX_OPS = 32
#: A captured digest's value: ``DIGEST_MARK + REF`` (the grader computes REF's digest itself, never reads one).
DIGEST_MARK = "\x00digest-of\x00"
#: The digest a push printed (``sha256:...``): ``PUSHED_MARK + REF`` (the grader uses the digest its replay got).
PUSHED_MARK = "\x00pushed-digest-of\x00"
#: Text filters a captured ``docker push`` may be piped into (read as "extract the digest", never run).
_FILTERS = {"grep", "awk", "sed", "cut", "tail", "head", "tr"}
#: docker verb -> flags allowed on the replayed line (flag -> takes a value).
FLAGS: dict[str, dict[str, bool]] = {
    "tag": {},
    "push": {"-q": False, "--quiet": False, "-a": False, "--all-tags": False},
    "pull": {"-q": False, "--quiet": False},
    "login": {"-u": True, "--username": True, "--password-stdin": False},
}
_PASSWORD_FLAGS = ("-p", "--password")
_HARMLESS = {"set", "echo", "printf", ":", "true", "export", "readonly", "local", "declare"}
_ASSIGN = re.compile(r"^(?:export\s+|readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)
_CAPTURE = re.compile(r'^"?\$\(([^()`]*)\)"?$')
#: ``docker login ... -p X`` / ``--password X`` on a line the reader could not follow (still flagged).
_PASSWORD_ON_LINE = re.compile(r"\bdocker\s+login\s.*?(?<=\s)(?:-p|--password(?:=|\s))")
_LOGIN = re.compile(r"(?:^|[|;&]\s*)docker\s+login\b")
_CONTROL = {"if", "then", "elif", "else", "fi", "for", "while", "until", "do", "done", "case", "esac", "function"}
_CONTROL |= {"{", "}", "(", ")", "select", "!"}


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Op:
    """One docker operation the grader may replay: ``verb`` with its expanded operands and flags."""

    line: int
    verb: str
    operands: tuple[str, ...]
    flags: tuple[str, ...]
    text: str


@dataclass
class Reading:
    """What :func:`read_publish_script` kept (``ops``), skipped (``ignored``) and flagged (password on the line)."""

    ops: list[Op] = field(default_factory=list)
    ignored: list[tuple[int, str, str]] = field(default_factory=list)
    flagged: list[tuple[int, str, str]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    def skip(self, line: int, text: str, why: str) -> None:
        """Record a line the grader does not run, and why."""
        self.ignored.append((line, _short(text), why))


def read_publish_script(text: str, lab: dict[str, str]) -> Reading:
    """Read ``publish.sh`` with the lab's variables ``lab`` (``REGISTRY``, ``REPOSITORY``...); nothing is run.

    Returns:
        A :class:`Reading`: the docker operations in order, the lines ignored (with why), the lines flagged.
    """
    reading = Reading(variables=dict(lab))
    if len(text) > MAX_CHARS:
        reading.skip(0, f"{len(text)} characters", f"only the first {MAX_CHARS} characters are read")
        text = text[:MAX_CHARS]
    if text.count("\n") > MAX_LINES:
        reading.skip(MAX_LINES, "...", f"only the first {MAX_LINES} lines are read")
    for n, line in logical_lines(text, MAX_LINES, MAX_LINE_CHARS):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            if not _capture(reading, n, line, lab):
                _read_line(reading, n, line, lab)
        except ShellUnsupported as e:
            reading.skip(n, line, str(e))
            _login_anyway(reading, n, line)
    return reading


def _login_anyway(reading: Reading, n: int, line: str) -> None:
    """A ``docker login`` line the reader could not follow still logs in (the grader uses its own credentials);
    a password on it is flagged."""
    if not _LOGIN.search(line):
        return
    if _PASSWORD_ON_LINE.search(line):
        reading.flagged.append((n, _short(line), "the password is on the command line"))
    if len(reading.ops) < MAX_OPS:
        reading.ops.append(Op(n, "login", (), (), _short(line)))


def _capture(reading: Reading, n: int, line: str, lab: dict[str, str]) -> bool:
    """``NAME=$(docker inspect --format '{{index .RepoDigests 0}}' REF)``: NAME holds REF's pushed digest.

    Returns:
        False when the line is not an assignment from a command substitution.
    """
    m = _ASSIGN.match(line)
    sub = _CAPTURE.match(m.group(2).strip()) if m else None
    if not m or not sub:
        return False
    unknown: set[str] = set()
    words = split_words(sub.group(1), reading.variables, unknown)
    if words[:2] == ["docker", "image"] and words[2:3] in (["inspect"], ["push"]):
        words = ["docker", *words[2:]]
    if words[:2] == ["docker", "push"]:
        return _pushed_capture(reading, n, line, m.group(1), words, unknown, lab)
    fmt = [w for a, w in zip(words, words[1:]) if a in ("-f", "--format")]
    fmt += [w.split("=", 1)[1] for w in words if w.startswith("--format=")]
    operands = [w for a, w in zip(words[1:], words[2:]) if not w.startswith("-") and a not in ("-f", "--format")]
    if words[:2] != ["docker", "inspect"] or not any("RepoDigests" in f for f in fmt) or len(operands) != 1:
        raise ShellUnsupported(
            "command substitution: only $(docker inspect --format '{{index .RepoDigests 0}}' REF) is read"
        )
    if unknown:
        raise ShellUnsupported(f"uses ${sorted(unknown)[0]}, which neither the lab nor the script sets")
    _assign(reading, n, line, m.group(1), DIGEST_MARK + operands[0], lab)
    return True


def _pushed_capture(
    reading: Reading, n: int, line: str, name: str, words: list[str], unknown: set[str], lab: dict[str, str]
) -> bool:
    """``NAME=$(docker push REF | grep -o 'sha256:...')``: replay the push; NAME holds the digest it printed."""
    cut = words.index("|") if "|" in words else len(words)
    filters = _commands([w if w != "|" else ";" for w in words[cut + 1 :]])
    if cut == len(words) or not all(c[0] in _FILTERS for c in filters):
        raise ShellUnsupported(
            "command substitution: $(docker push REF | grep/awk/sed/cut/tail/head ...) is read for the digest"
        )
    _docker(reading, n, line, words[1:cut], unknown)
    _assign(reading, n, line, name, PUSHED_MARK + reading.ops[-1].operands[0], lab)
    return True


def _assign(reading: Reading, n: int, line: str, name: str, value: str, lab: dict[str, str]) -> None:
    """Set a script variable (the lab's own variables keep the lab's values)."""
    if name in lab:
        raise ShellUnsupported(f"{name} is set by the lab: the grader keeps its own value")
    if len(value) > MAX_VALUE:
        raise ShellUnsupported(f"{name} would hold more than {MAX_VALUE} characters")
    reading.variables[name] = value


def _read_line(reading: Reading, n: int, line: str, lab: dict[str, str]) -> None:
    """Read one logical line: assignments, harmless builtins, docker operations; the rest is reported."""
    unknown: set[str] = set()
    words = split_words(line, reading.variables, unknown)
    if "<<" in words:
        raise ShellUnsupported("a here-document: the grader does not run it")
    commands = _commands(words)
    if any(c[0] in _CONTROL for c in commands):
        raise ShellUnsupported("shell control flow (if, for, while, functions): the grader reads lines one by one")
    for command in commands:
        command = _without_redirections(command)
        if "|" in command:
            command = _piped_login(command)
        head = command[1:] if command[0] in ("export", "readonly") and len(command) > 1 else command
        if "=" in head[0] and NAME.fullmatch(head[0].split("=", 1)[0]):
            if len(head) > 1:
                raise ShellUnsupported("a command with variables in front of it: the grader does not run it")
            if unknown:
                raise ShellUnsupported(f"uses ${sorted(unknown)[0]}, which neither the lab nor the script sets")
            name, _, value = head[0].partition("=")
            _assign(reading, n, line, name, value, lab)
        elif command[0] == "docker":
            _docker(reading, n, line, command[1:], unknown)
        elif command[0] not in _HARMLESS:
            reading.skip(n, line, f"{command[0][:30]}: not a docker command, the grader does not run it")


def _piped_login(command: list[str]) -> list[str]:
    """``echo/printf/cat ... | docker login ... --password-stdin``: the login part (the left side is not run)."""
    cut = command.index("|")
    left, right = command[:cut], command[cut + 1 :]
    if (
        "|" not in right
        and len(right) >= 2
        and right[:2] == ["docker", "login"]
        and left
        and left[0] in ("echo", "printf", "cat")
    ):
        return right
    raise ShellUnsupported("a pipeline: the grader runs none (only `... | docker login --password-stdin` is read)")


def _docker(reading: Reading, n: int, line: str, words: list[str], unknown: set[str]) -> None:
    """Keep ``docker login|tag|push|pull`` (or ``docker image tag|push|pull``) with allowed flags, else report it.

    An unknown variable refuses the line, except on ``docker login`` (the grader logs in with its own credentials).
    """
    if not words or words[0].startswith("-"):
        raise ShellUnsupported("docker with global options (-H, --config...): not replayed")
    verb, rest = words[0], words[1:]
    if verb == "image" and rest[:1] and rest[0] in ("tag", "push", "pull"):
        verb, rest = rest[0], rest[1:]
    if verb not in FLAGS:
        reading.skip(n, line, f"docker {verb[:20]}: not replayed (the grader replays login, tag, push and pull)")
        return
    flags, operands = _flags(reading, n, line, verb, rest)
    if unknown and verb != "login":
        raise ShellUnsupported(f"uses ${sorted(unknown)[0]}, which neither the lab nor the script sets")
    wanted = {"tag": (2, 2), "push": (1, 1), "pull": (1, 1), "login": (0, 1)}[verb]
    if not wanted[0] <= len(operands) <= wanted[1]:
        raise ShellUnsupported(f"docker {verb} with {len(operands)} operands: not replayed")
    if len(reading.ops) >= MAX_OPS:
        raise ShellUnsupported(f"more than {MAX_OPS} docker operations: the rest is not replayed")
    reading.ops.append(Op(n, verb, tuple(operands), tuple(flags), _short(line)))


def _flags(reading: Reading, n: int, line: str, verb: str, words: list[str]) -> tuple[list[str], list[str]]:
    """Split a docker command's words into allowed flags and operands; a password on the line is flagged.

    Raises:
        ShellUnsupported: A flag the grader does not replay (named in the reason).
    """
    flags: list[str] = []
    operands: list[str] = []
    it = iter(words)
    for w in it:
        if not w.startswith("-") or w == "-":
            operands.append(w)
            continue
        name, eq, _ = w.partition("=")
        takes = FLAGS[verb].get(name)
        if verb == "login" and (name in _PASSWORD_FLAGS or (w.startswith("-p") and not w.startswith("--"))):
            reading.flagged.append((n, _short(line), "the password is on the command line"))
            takes = name in _PASSWORD_FLAGS and not eq
            name = "--password"
        elif takes is None:
            raise ShellUnsupported(f"docker {verb} {name[:30]}: not an option the grader replays")
        flags.append(name)
        if takes and not eq:
            next(it, None)
    return flags, operands
