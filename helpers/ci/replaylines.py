"""Read the lines of a ``run:`` script into :class:`~helpers.ci.replaymodel.Command` values, through an allow-list.

The grader never runs a student's shell next to an engine socket, so each line is read here, word by word
(:func:`helpers.shellwords.split_words`), and only these forms become commands: ``docker build``/``buildx build``
and the other docker commands :data:`FLAGS` lists with their options (management forms such as ``container run`` are
normalised), ``echo``/``printf``/``true``/``set`` (not run), ``sleep N`` (capped at :data:`MAX_SLEEP`), ``exit N``,
variable assignments, lists (``a && b || c``, ``;``, ``&``; a line ending in ``&&``/``||`` goes on on the next),
``! command`` and ``echo ... | docker login``: the runner follows them as ``bash -e`` does. A health-wait idiom (a
``for``/``until``/``while`` loop around ``docker inspect`` or ``curl``/``wget``, ``timeout N sh -c '...'``) becomes
one bounded :data:`~helpers.ci.replaymodel.WAIT` (at most :data:`MAX_WAIT` seconds). Anything else raises
:class:`~helpers.ci.replaymodel.Refused` naming the part and the file's line. Steps, jobs and ``uses:`` actions are
read by :mod:`helpers.ci.replayplan`, which calls :func:`read_run` for each ``run:`` step.
"""

from __future__ import annotations

import dataclasses
import platform
import re

from helpers.ci.expressions import UNKNOWN
from helpers.ci.replaymodel import WAIT, Command, PlanStep, refuse, unknown_expr
from helpers.shellwords import NAME, SEPARATORS, ShellUnsupported, logical_lines, split_words, without_redirections

__all__ = ["FLAGS", "MAX_SLEEP", "MAX_WAIT", "read_run", "host_platform"]

MAX_SLEEP = 30.0
MAX_WAIT = 90.0
_V, _B = True, False  # a flag takes a value / is a switch
_HEALTH = {"--health-cmd": _V, "--health-interval": _V, "--health-timeout": _V, "--health-retries": _V}
_HEALTH |= {"--health-start-period": _V, "--no-healthcheck": _B}
#: docker command -> option -> takes a value. Commands are normalised (``container run`` is ``run``...).
FLAGS: dict[str, dict[str, bool]] = {
    "build": {"-t": _V, "--tag": _V, "-f": _V, "--file": _V, "--target": _V, "--build-arg": _V, "--label": _V}
    | {"--pull": _B, "--cache-from": _V, "--cache-to": _V, "--platform": _V, "--load": _B, "--push": _B}
    | {"-q": _B, "--quiet": _B, "--progress": _V, "--no-cache": _B},
    "network-create": {"--driver": _V, "-d": _V, "--internal": _B, "--label": _V},
    "network-rm": {"-f": _B, "--force": _B},
    "network-ls": {"-q": _B, "--format": _V, "--filter": _V},
    "run": {"-d": _B, "--detach": _B, "--rm": _B, "--name": _V, "--network": _V, "--net": _V, "-e": _V, "--env": _V}
    | {"-p": _V, "--publish": _V, "--network-alias": _V, "-i": _B, "-t": _B, "-it": _B, "--init": _B}
    | _HEALTH,
    "exec": {"-e": _V, "--env": _V, "-i": _B, "-t": _B, "-it": _B, "-w": _V, "--workdir": _V},
    "logs": {"--tail": _V, "-n": _V, "-t": _B, "--timestamps": _B},
    "inspect": {"-f": _V, "--format": _V, "--type": _V},
    "ps": {"-a": _B, "--all": _B, "-q": _B, "--filter": _V, "--format": _V},
    "stop": {"-t": _V, "--time": _V},
    "rm": {"-f": _B, "--force": _B, "-v": _B},
    "tag": {},
    "push": {"-q": _B, "--quiet": _B},
    "image-ls": {"-q": _B, "--format": _V, "--filter": _V, "-a": _B},
    "rmi": {"-f": _B, "--force": _B},
    "login": {"-u": _V, "--username": _V, "--password-stdin": _B, "-p": _V, "--password": _V},
    "logout": {},
}
_MANAGEMENT = {
    ("container", "run"): "run",
    ("container", "exec"): "exec",
    ("container", "logs"): "logs",
    ("container", "inspect"): "inspect",
    ("container", "ls"): "ps",
    ("container", "ps"): "ps",
    ("container", "stop"): "stop",
    ("container", "rm"): "rm",
    ("image", "build"): "build",
    ("image", "tag"): "tag",
    ("image", "push"): "push",
    ("image", "ls"): "image-ls",
    ("image", "rm"): "rmi",
    ("image", "inspect"): "inspect",
    ("buildx", "build"): "build",
    ("network", "create"): "network-create",
    ("network", "rm"): "network-rm",
    ("network", "remove"): "network-rm",
    ("network", "ls"): "network-ls",
    ("network", "inspect"): "inspect",
}
_SINGLE = {"images": "image-ls", "build": "build", "run": "run", "exec": "exec", "logs": "logs"}
_SINGLE |= {"inspect": "inspect", "ps": "ps", "stop": "stop", "rm": "rm", "tag": "tag", "push": "push"}
_SINGLE |= {"rmi": "rmi", "login": "login", "logout": "logout"}
_HARMLESS = {"echo", "printf", "true", ":", "set", "export"}
#: What may appear in a health-wait loop (none of it runs: the kit waits instead).
_LOOP_WORDS = {"for", "until", "while", "do", "done", "if", "then", "fi", "else", "docker", "curl", "wget", "sleep"}
_LOOP_WORDS |= {"echo", "printf", "exit", "break", "continue", "true", "false", ":", "[", "[[", "test", "seq"}
_LOOP_WORDS |= {"timeout", "in", "grep", "!"}
_HEALTH_IDIOM = re.compile(r"State\.Health\.Status|State\.Status|\bcurl\b|\bwget\b")


def host_platform(value: str, line: int = 0) -> None:
    """Refuse a ``--platform``/``platforms:`` other than the grader's own (it builds for that one only)."""
    machine = platform.machine().lower()
    host = "linux/arm64" if machine in ("arm64", "aarch64") else "linux/amd64"
    if value.strip() != host:
        raise refuse(f"--platform {value[:30]}: the grader builds for its own platform ({host}) only", line)


def read_run(ps: PlanStep, text: str, env: dict[str, str], first: int) -> None:
    """The commands of a ``run:`` script, health-wait loops read as one wait each."""
    variables = dict(env)
    lines = logical_lines(text, 400, 4000)
    i, joiner = 0, ";"  # joiner: the ``&&``/``||`` a line ended with, before the next line's first command
    while i < len(lines):
        n, line = lines[i][0] + first - 1, lines[i][1].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        head = line.split(None, 1)[0]
        if head in ("for", "until", "while"):
            block = [line]
            depth = _depth(line)
            while depth > 0 and i < len(lines):
                block.append(lines[i][1].strip())
                depth += _depth(lines[i][1])
                i += 1
            ps.commands.append(dataclasses.replace(_wait(ps, "\n".join(block), n, variables), joiner=joiner))
        elif head == "timeout":
            ps.commands.append(dataclasses.replace(_wait(ps, line, n, variables), joiner=joiner))
        elif head in ("if", "case", "function", "select") or re.match(r"^[A-Za-z_]\w*\s*\(\)", line):
            raise refuse(f"`{head}`: shell control flow is not replayed (only health-wait loops are)", n)
        else:
            commands, joiner = _read_line(line, n, variables, joiner)
            ps.commands += commands
            continue
        joiner = ";"


def _depth(line: str) -> int:
    """How many loops a line opens minus how many it closes (``for ... do``/``done``)."""
    words = re.findall(r"(?:^|[;\s&|])(for|until|while|done)(?=$|[;\s&|])", line)
    return sum(1 for w in words if w != "done") - words.count("done")


def _wait(ps: PlanStep, block: str, n: int, variables: dict[str, str]) -> Command:
    """A health-wait idiom as one bounded wait: containers named by ``docker inspect``, seconds from the loop."""
    if not _HEALTH_IDIOM.search(block):
        raise refuse("a shell loop that waits for nothing the grader recognises (only health-wait loops run)", n)
    heads = {
        seg.strip().split(None, 1)[0].lstrip("!").strip("'\"")
        for seg in re.split(r"[;\n|&()]|\$\(|\bdo\b|\bthen\b|\belse\b|\b-c\b", block)
        if seg.strip()
    }
    heads = {h for h in heads if re.match(r"^[A-Za-z_\[:.!/]", h) and not re.match(r"^[A-Za-z_]\w*=", h)}
    bad = sorted(h for h in heads if h not in _LOOP_WORDS)
    if bad:
        raise refuse(f"`{bad[0][:30]}` inside a wait loop: only docker inspect, curl/wget, sleep and tests", n)
    containers = []
    for m in re.finditer(r"docker\s+(?:container\s+)?inspect\s+(.*?)(?:\)|$|;|\n|\s\]|\|)", block):
        try:
            words = split_words(m.group(1), variables, set())
        except ShellUnsupported:
            continue
        operands = [w for a, w in zip(["", *words], words) if not w.startswith("-") and a not in ("-f", "--format")]
        containers += operands[-1:]
    seq = re.search(r"seq\s+(?:\d+\s+)?(\d+)", block)
    sleep = re.search(r"sleep\s+(\d+(?:\.\d+)?)", block)
    timeout = re.match(r"timeout\s+(\d+)", block)
    seconds = float(timeout.group(1)) if timeout else float(seq.group(1)) * float(sleep.group(1) if sleep else 1)
    seconds = min(seconds if (timeout or seq) else MAX_WAIT, MAX_WAIT)
    return Command(
        WAIT, n, block.splitlines()[0][:80], operands=tuple(containers), seconds=seconds, ends_step="exit 0" in block
    )


def _read_line(line: str, n: int, variables: dict[str, str], joiner: str = ";") -> tuple[list[Command], str]:
    """One logical line: its commands with the operators between them, and the ``&&``/``||`` it ends with (bash
    reads the next line as that operator's right side; ``;`` when the line ends its list). ``joiner`` is the
    operator a previous line ended with. Refused parts name themselves.

    ``! command`` is ``negated``; every command of a list ended by ``&`` is ``background`` (bash runs it apart:
    its status is 0 whatever it does).
    """
    unknown: set[str] = set()
    try:
        words = split_words(line, variables, unknown)
    except ShellUnsupported as e:
        raise refuse(f"`{_short(line)}`: {e}", n) from e
    if "<<" in words:
        raise refuse("a here-document is not replayed", n)
    out: list[Command] = []
    current: list[str] = []
    start = 0  # where the current list starts in ``out`` (what a ``&`` sends to the background)
    for w in [*words, None]:
        if w is not None and w not in SEPARATORS:
            current.append(w)
            continue
        if current:
            out.append(_one(current, line, n, variables, unknown, joiner))
        elif w is not None:
            raise refuse(f"`{_short(line)}`: `{w}` with no command before it", n)
        if w == "&":
            out[start:] = [dataclasses.replace(c, background=True) for c in out[start:]]
        if w in (";", "&"):
            start = len(out)
        joiner, current = (w if w in ("&&", "||") else ";"), []
    return out, (words[-1] if words and words[-1] in ("&&", "||") else ";")


def _one(words: list[str], line: str, n: int, variables: dict[str, str], unknown: set[str], joiner: str) -> Command:
    """One command of a list, ``! command`` read as the command ``negated``."""
    negated = words[0] == "!"
    if negated and len(words) == 1:
        raise refuse("`!` with no command after it", n)
    cmd = _read_command(without_redirections(words[negated:]), line, n, variables, unknown, joiner)
    return dataclasses.replace(cmd, negated=True) if negated else cmd


def _short(text: str) -> str:
    text = " ".join(text.replace(UNKNOWN, "${{ ").split())
    return text if len(text) <= 60 else text[:57] + "..."


def _read_command(
    words: list[str], line: str, n: int, variables: dict[str, str], unknown: set[str], joiner: str
) -> Command:
    """One command: ``noop`` (assignments, echo: not run), ``sleep``, ``exit``, or a docker command."""
    if "|" in words:
        words = _piped(words, n)
    head = words[0]
    if head == "export" and len(words) == 2 and "=" in words[1]:
        head, words = words[1], words[1:]
    if "=" in head and NAME.fullmatch(head.split("=", 1)[0]):
        if len(words) > 1:
            raise refuse(f"`{_short(line)}`: a command with variables in front of it is not replayed", n)
        name, _, value = head.partition("=")
        variables[name] = value[:1024]
        return Command("noop", n, _short(line), joiner=joiner)
    if head in _HARMLESS:
        return Command("noop", n, _short(line), joiner=joiner)
    if head == "sleep" and len(words) == 2 and re.fullmatch(r"\d+(\.\d+)?s?", words[1]):
        return Command("sleep", n, _short(line), joiner=joiner, seconds=min(float(words[1].rstrip("s")), MAX_SLEEP))
    if head == "exit" and len(words) <= 2 and (len(words) == 1 or words[1].isdigit()):
        return Command("exit", n, _short(line), joiner=joiner, seconds=float(words[1]) if len(words) == 2 else 0.0)
    if head != "docker":
        raise refuse(
            f"`{head[:30]}` is not a command the grader replays (docker build/run/network/logs/rm/tag/push/...,"
            " echo, sleep, exit)",
            n,
        )
    expr = next((unknown_expr(w) for w in words if UNKNOWN in w), "")
    if expr:
        raise refuse(f"`${{{{ {expr} }}}}` is not an expression the grader evaluates", n)
    if unknown and words[1:2] != ["login"]:
        raise refuse(f"`${sorted(unknown)[0]}` is set by no `env:` of the workflow, job or step", n)
    return _docker(words[1:], line, n, joiner)


def _piped(words: list[str], n: int) -> list[str]:
    """``echo/printf/cat ... | docker login ... --password-stdin``: the login (the left side is not run)."""
    cut = words.index("|")
    left, right = words[:cut], words[cut + 1 :]
    if "|" not in right and right[:2] == ["docker", "login"] and left and left[0] in ("echo", "printf", "cat"):
        return right
    shown = f"{left[0] if left else ''} ... | {right[0] if right else ''}"
    raise refuse(f"`{shown[:60]}`: a pipe is not replayed (only `echo ... | docker login --password-stdin`)", n)


def _docker(words: list[str], line: str, n: int, joiner: str) -> Command:
    """A docker command through :data:`FLAGS`: its normalised verb, options and operands."""
    if not words or words[0].startswith("-"):
        raise refuse("docker with global options (-H, --config, --context) is not replayed", n)
    verb = _MANAGEMENT.get((words[0], words[1] if len(words) > 1 else ""))
    rest = words[2:] if verb else words[1:]
    verb = verb or _SINGLE.get(words[0])
    if verb is None:
        shown = " ".join(words[:2]) if words[0] in ("container", "image", "network", "buildx") else words[0]
        raise refuse(f"`docker {shown[:30]}` is not replayed (allowed: {', '.join(sorted(_SINGLE))}, network ...)", n)
    flags: list[tuple[str, str]] = []
    operands: list[str] = []
    stop_at_operand = verb in ("run", "exec")
    i = 0
    while i < len(rest):
        w = rest[i]
        if operands and stop_at_operand:
            operands += rest[i:]
            break
        if not w.startswith("-") or w == "-":
            operands.append(w)
            i += 1
            continue
        name, eq, value = w.partition("=")
        takes = FLAGS[verb].get(name)
        if takes is None:
            raise refuse(f"`docker {verb.replace('-', ' ')} {name[:30]}`: not an option the grader replays", n)
        if takes and not eq:
            value, i = (rest[i + 1] if i + 1 < len(rest) else ""), i + 1
        flags.append((name, value))
        i += 1
    cmd = Command("docker", n, _short(line), verb, tuple(flags), tuple(operands), joiner)
    _check(cmd, n)
    return cmd


def _check(cmd: Command, n: int) -> None:
    """What the allow-list says about values: networks the workflow makes, the host platform, operand counts."""
    net = cmd.flag("--network", "--net")
    if net is not None and (net in ("host", "none") or net.startswith("container:")):
        raise refuse(f"`--network {net}`: only networks the workflow creates", n)
    if cmd.verb == "network-create" and cmd.flag("--driver", "-d") not in (None, "bridge"):
        raise refuse("`docker network create --driver`: only bridge networks", n)
    for value in cmd.values("--platform"):
        host_platform(value, n)
    wanted = {"build": (1, 1), "tag": (2, 2), "push": (1, 1), "network-create": (1, 1), "run": (1, 999)}
    low, high = wanted.get(cmd.verb, (0, 999))
    if not low <= len(cmd.operands) <= high:
        raise refuse(f"`docker {cmd.verb.replace('-', ' ')}` with {len(cmd.operands)} operands", n)
