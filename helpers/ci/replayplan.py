"""Read a workflow's jobs and steps into the docker operations a grader may replay, without running anything.

The grader never runs a student's shell next to an engine socket. This reader turns each step, in order, into
:class:`Command` values through an allow-list, for one graded run (a branch and an event):

- ``run:`` lines: ``docker build``/``buildx build`` (:data:`FLAGS` lists the options per command),
  ``network create|rm``, ``run``, ``exec``, ``logs``, ``inspect``, ``ps``, ``stop``, ``rm``, ``tag``, ``push``,
  ``image ls``, ``login`` (the grader's own credentials); ``echo``/``printf``/``true``/``set`` (not run),
  ``sleep N`` (capped), ``exit N``, variable assignments; ``a && b``, ``a || true``, ``echo ... | docker login``.
- The health-wait idioms (a ``for``/``until``/``while`` loop around ``docker inspect`` of the health status or
  ``curl``/``wget`` of a URL, ``timeout N sh -c '...'``) become one bounded :data:`WAIT` the kit performs.
- ``uses:`` steps: ``actions/checkout`` and ``docker/setup-*-action`` (nothing to do),
  ``docker/login-action``, ``docker/metadata-action`` (its ``tags`` output, computed as it would),
  ``docker/build-push-action`` (a build, then a push when ``push:`` is true); any other action is skipped
  with a note.
- ``${{ }}`` expressions and ``if:`` conditions through :mod:`helpers.ci.expressions`; ``env:`` at workflow, job
  and step level; the ``GITHUB_*`` variables of the run.

Anything else (``curl ... | sh``, ``apt-get``, ``docker run -v``, ``--network host``, another expression in a
command) is refused: :attr:`Plan.refusals` names the step, its line in the file and the part. Bounded: at most
:data:`MAX_STEPS` steps and :data:`MAX_COMMANDS` commands, lines as in :func:`helpers.shellwords.logical_lines`.
"""

from __future__ import annotations

import dataclasses
import platform
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from helpers.ci.expressions import UNKNOWN, Context, ExpressionRefused, condition, substitute
from helpers.shellwords import NAME, ShellUnsupported, logical_lines, split_words, without_redirections

__all__ = ["Command", "PlanStep", "PlanJob", "Plan", "read_plan", "run_context", "FLAGS", "WAIT"]

MAX_STEPS = 40
MAX_COMMANDS = 80
MAX_SLEEP = 30.0
MAX_WAIT = 90.0
#: The kind of a bounded health wait the kit performs in place of a student's loop.
WAIT = "wait"
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


@dataclass(frozen=True)
class Command:
    """One operation of the replay: a docker command (``kind`` ``docker``), a wait, a sleep or an exit.

    ``joiner`` is the shell operator before it on its line (``;``, ``&&`` or ``||``): the runner follows it.
    """

    kind: str
    line: int
    text: str
    verb: str = ""
    flags: tuple[tuple[str, str], ...] = ()
    operands: tuple[str, ...] = ()
    joiner: str = ";"
    seconds: float = 0.0
    ends_step: bool = False

    def flag(self, *names: str) -> str | None:
        """The last value of one of ``names`` ("" for a switch), or None when absent."""
        found = [v for f, v in self.flags if f in names]
        return found[-1] if found else None

    def values(self, *names: str) -> list[str]:
        """Every value given to one of ``names`` (repeated options)."""
        return [v for f, v in self.flags if f in names]


@dataclass
class PlanStep:
    """One step: its condition (evaluated when the run gets there), its commands, and notes for the report."""

    job: str
    name: str
    line: int
    cond: Any
    commands: list[Command] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    continue_on_error: bool = False

    def where(self, line: int = 0) -> str:
        """``step 'NAME' (line N)`` for messages (N: the file's line)."""
        return f"step {self.name!r} (line {line or self.line})"


@dataclass
class PlanJob:
    name: str
    cond: Any
    needs: list[str]
    steps: list[PlanStep] = field(default_factory=list)


@dataclass
class Plan:
    """The jobs to replay, in order; refusals (each names a step, a line and the part) mean nothing runs."""

    jobs: list[PlanJob] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    context: Context | None = None

    @property
    def steps(self) -> list[PlanStep]:
        return [s for j in self.jobs for s in j.steps]


def run_context(branch: str, sha: str, owner: str = "course-student") -> Context:
    """The ``github`` context of a graded run: ``main`` is a push to main, any other branch a pull request."""
    push = branch == "main"
    ref = "refs/heads/main" if push else "refs/pull/1/merge"
    github = {"sha": sha, "ref": ref, "ref_name": "main" if push else "1/merge"}
    github |= {"event_name": "push" if push else "pull_request", "actor": owner, "repository": f"{owner}/course"}
    github |= {"repository_owner": owner, "workflow": "graded", "head_ref": "" if push else branch}
    return Context(github=github)


def _github_env(ctx: Context) -> dict[str, str]:
    g = ctx.github
    env = {f"GITHUB_{k.upper()}": v for k, v in g.items()}
    return env | {"CI": "true", "GITHUB_BASE_REF": "" if g["event_name"] == "push" else "main", "RUNNER_OS": "Linux"}


class _Refused(Exception):
    """A part of a step the replay does not run (the message names it)."""


def read_plan(doc: dict[str, Any], branch: str, sha: str, text: str = "") -> Plan:
    """The replay of a loaded workflow (:func:`helpers.ci.workflowfile.load_workflow`) for one graded run.

    ``text`` (the file's text) lets messages name the file's line of each command, not only its step's.
    """
    ctx = run_context(branch, sha)
    lines = text.splitlines()
    plan = Plan(context=ctx)
    wf_env = _env(doc.get("env"), ctx)
    ctx.env = wf_env
    count = 0
    for job_name, job in (doc.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        needs = job.get("needs") or []
        pj = PlanJob(str(job_name), job.get("if"), [needs] if isinstance(needs, str) else list(needs))
        if job.get("services"):
            plan.refusals.append(f"job {job_name!r}: `services:` are not replayed; start containers with docker run")
        job_env = wf_env | _env(job.get("env"), ctx)
        for step in job.get("steps") or []:
            if not isinstance(step, dict):
                continue
            count += 1
            if count > MAX_STEPS:
                plan.refusals.append(f"more than {MAX_STEPS} steps: the rest is not replayed")
                return plan
            defaults = job.get("defaults") if isinstance(job.get("defaults"), dict) else {}
            run_defaults = defaults.get("run") if isinstance(defaults.get("run"), dict) else {}
            wd = str(run_defaults.get("working-directory") or "")
            pj.steps.append(_read_step(str(job_name), step, job_env, ctx, plan, lines, wd))
        plan.jobs.append(pj)
    if sum(len(s.commands) for s in plan.steps) > MAX_COMMANDS:
        plan.refusals.append(f"more than {MAX_COMMANDS} commands: the grader replays at most that many")
    _check_conditions(plan, ctx)
    return plan


def _check_conditions(plan: Plan, ctx: Context) -> None:
    """Refuse, before anything runs, a condition the replay cannot evaluate (naming it)."""
    for job in plan.jobs:
        for where, cond in [(f"job {job.name!r}", job.cond)] + [(s.where(), s.cond) for s in job.steps]:
            try:
                condition(cond, ctx)
            except ExpressionRefused as e:
                plan.refusals.append(f"{where}: `if: {str(cond)[:60]}`: {e}")


def _env(block: Any, ctx: Context) -> dict[str, str]:
    """An ``env:`` mapping with its expressions substituted (a value using an unknown one is refused when used)."""
    if not isinstance(block, dict):
        return {}
    out = {}
    for k, v in block.items():
        out[str(k)] = substitute("" if v is None else str(v).lower() if isinstance(v, bool) else str(v), ctx)
    return out


def _run_line(lines: list[str], step_line: int) -> int:
    """The file's line where a step's ``run:`` script starts (the line after ``run: |``), or the step's line + 1."""
    for i in range(max(step_line - 1, 0), min(step_line + 40, len(lines))):
        m = re.match(r"^\s*(?:-\s+)?run:\s*(.*)$", lines[i])
        if m:
            return i + 2 if m.group(1).strip()[:1] in ("|", ">") else i + 1
    return step_line + 1


def _read_step(
    job: str, step: dict[str, Any], job_env: dict[str, str], ctx: Context, plan: Plan, lines: list[str], wd: str
) -> PlanStep:
    """One step of the plan; a refused part is added to the plan's refusals (naming the step and line).

    ``wd`` is the job's ``defaults.run.working-directory`` (a step's ``working-directory`` wins): build paths are
    read relative to it, as the runner would.
    """
    line = getattr(step, "line", 0)
    name = str(step.get("name") or step.get("uses") or str(step.get("run", "")).split("\n")[0])[:60]
    ps = PlanStep(job, name, line, step.get("if"), continue_on_error=step.get("continue-on-error") is True)
    env = job_env | _env(step.get("env"), Context(ctx.github, job_env))
    sctx = Context(ctx.github, env, ctx.steps)
    try:
        if step.get("shell") not in (None, "bash", "sh"):
            raise _refuse(f"`shell: {str(step.get('shell'))[:30]}`: only bash and sh steps are replayed")
        if step.get("uses"):
            _read_uses(ps, str(step["uses"]), dict(step.get("with") or {}), str(step.get("id") or ""), sctx)
        elif step.get("run") is not None:
            _read_run(ps, substitute(str(step["run"]), sctx), _github_env(ctx) | env, _run_line(lines, line))
            ps.commands = [_in_dir(c, str(step.get("working-directory") or wd)) for c in ps.commands]
    except _Refused as e:
        plan.refusals.append(f"{ps.where(getattr(e, 'line', 0))}: {e}")
    return ps


def _in_dir(cmd: Command, wd: str) -> Command:
    """A build's Dockerfile and context as paths from the repository root (``working-directory`` joined)."""
    if not wd or wd == "." or cmd.verb != "build":
        return cmd
    flags = tuple((f, posixpath.normpath(posixpath.join(wd, v)) if f in ("-f", "--file") else v) for f, v in cmd.flags)
    operands = (posixpath.normpath(posixpath.join(wd, cmd.operands[0])),)
    return dataclasses.replace(cmd, flags=flags, operands=operands)


def _unknown_expr(text: str) -> str:
    """The first expression the replay did not evaluate in ``text`` ("" when none)."""
    i = text.find(UNKNOWN)
    return text[i + len(UNKNOWN) :].split("\x00", 1)[0] if i >= 0 else ""


def _refuse(message: str, line: int = 0) -> _Refused:
    e = _Refused(message)
    e.line = line  # type: ignore[attr-defined]
    return e


# --- uses: steps -------------------------------------------------------------------------------------------


def _inputs(with_: dict[str, Any], ctx: Context, line: int) -> dict[str, str]:
    out = {}
    for k, v in with_.items():
        value = substitute(str(v).lower() if isinstance(v, bool) else str(v), ctx)
        if _unknown_expr(value):
            raise _refuse(f"`with: {k}` uses `${{{{ {_unknown_expr(value)} }}}}`, which the grader does not evaluate")
        out[str(k)] = value
    return out


def _items(value: str) -> list[str]:
    """A list input of an action: one item per line or comma."""
    return [x.strip() for x in re.split(r"[\n,]", value or "") if x.strip()]


def _read_uses(ps: PlanStep, uses: str, with_: dict[str, Any], step_id: str, ctx: Context) -> None:
    action = uses.split("@", 1)[0].strip().lower()
    if action == "actions/checkout" or action in ("docker/setup-buildx-action", "docker/setup-qemu-action"):
        ps.notes.append(f"{action}: nothing to do (the grader builds in its own checkout)")
        return
    inputs = _inputs(with_, ctx, ps.line)
    if action == "docker/login-action":
        ps.commands.append(Command("docker", ps.line, f"uses: {action}", verb="login"))
    elif action == "docker/metadata-action":
        tags = _metadata_tags(inputs, ctx)
        if step_id:
            ctx.steps[step_id] = {
                "tags": "\n".join(tags),
                "labels": "",
                "version": tags[0].rsplit(":", 1)[-1] if tags else "",
            }
        ps.notes.append(f"docker/metadata-action: tags {tags}")
    elif action == "docker/build-push-action":
        _build_push(ps, inputs, action)
    else:
        ps.notes.append(f"`uses: {uses[:60]}` is skipped: the grader replays docker commands and the docker/* actions")


def _metadata_tags(inputs: dict[str, str], ctx: Context) -> list[str]:
    """The tags docker/metadata-action computes for this run (sha, branch, pr, raw forms; semver needs a tag)."""
    g = ctx.github
    specs = [s.strip() for s in (inputs.get("tags") or "").splitlines() if s.strip()] or [
        "type=ref,event=branch",
        "type=ref,event=pr",
    ]
    tags = []
    for spec in specs:
        attrs = dict(p.split("=", 1) if "=" in p else (p, "") for p in (x.strip() for x in spec.split(",")))
        if attrs.get("enable", "true").replace("{{is_default_branch}}", str(g["ref_name"] == "main")).lower() in (
            "false",
            "0",
        ):
            continue
        kind, prefix, suffix = attrs.get("type", "raw"), attrs.get("prefix", ""), attrs.get("suffix", "")
        if kind == "sha":
            value = (attrs.get("prefix", "sha-")) + (g["sha"] if attrs.get("format") == "long" else g["sha"][:7])
            prefix = ""
        elif kind == "ref" and attrs.get("event") == "branch":
            value = g["ref_name"] if g["event_name"] == "push" else ""
        elif kind == "ref" and attrs.get("event") == "pr":
            value = "pr-1" if g["event_name"] == "pull_request" else ""
        elif kind == "raw":
            value = attrs.get("value", "")
        elif kind in ("semver", "pep440", "schedule", "match") or (kind == "ref" and attrs.get("event") == "tag"):
            value = ""  # no tag or schedule event in a graded run
        elif kind == "edge":
            value = "edge" if g["ref_name"] == "main" and g["event_name"] == "push" else ""
        else:
            raise _refuse(f"docker/metadata-action `tags: {spec[:40]}`: a form the grader does not compute")
        if value:
            tags.append(prefix + value.replace("/", "-") + suffix)
    return [f"{image}:{t}" for image in _items(inputs.get("images", "")) for t in tags]


def _build_push(ps: PlanStep, inputs: dict[str, str], action: str) -> None:
    """docker/build-push-action: a ``docker build`` (tags, file, target, args), then a push of each tag."""
    context = inputs.get("context") or "."
    flags: list[tuple[str, str]] = [("-f", inputs["file"])] if inputs.get("file") else []
    flags += [("-t", t) for t in _items(inputs.get("tags", ""))]
    flags += [("--build-arg", a) for a in (inputs.get("build-args") or "").splitlines() if a.strip()]
    flags += [("--label", a) for a in (inputs.get("labels") or "").splitlines() if a.strip()]
    flags += [("--target", inputs["target"])] if inputs.get("target") else []
    for platform_ in _items(inputs.get("platforms", "")):
        _host_platform(platform_, ps.line)
    if inputs.get("cache-from") or inputs.get("cache-to"):
        ps.notes.append("cache-from/cache-to are ignored: the grader builds with its own cache")
    ps.commands.append(Command("docker", ps.line, f"uses: {action}", "build", tuple(flags), (context,)))
    if inputs.get("push", "false").lower() == "true":
        for tag in _items(inputs.get("tags", "")):
            ps.commands.append(Command("docker", ps.line, f"uses: {action} (push)", "push", (), (tag,)))


def _host_platform(value: str, line: int = 0) -> None:
    machine = platform.machine().lower()
    host = "linux/arm64" if machine in ("arm64", "aarch64") else "linux/amd64"
    if value.strip() != host:
        raise _refuse(f"--platform {value[:30]}: the grader builds for its own platform ({host}) only", line)


# --- run: steps --------------------------------------------------------------------------------------------


def _read_run(ps: PlanStep, text: str, env: dict[str, str], first: int) -> None:
    """The commands of a ``run:`` script, health-wait loops read as one wait each."""
    variables = dict(env)
    lines = logical_lines(text, 400, 4000)
    i = 0
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
            ps.commands.append(_wait(ps, "\n".join(block), n, variables))
        elif head == "timeout":
            ps.commands.append(_wait(ps, line, n, variables))
        elif head in ("if", "case", "function", "select") or re.match(r"^[A-Za-z_]\w*\s*\(\)", line):
            raise _refuse(f"`{head}`: shell control flow is not replayed (only health-wait loops are)", n)
        else:
            ps.commands += _read_line(line, n, variables)


def _depth(line: str) -> int:
    """How many loops a line opens minus how many it closes (``for ... do``/``done``)."""
    words = re.findall(r"(?:^|[;\s&|])(for|until|while|done)(?=$|[;\s&|])", line)
    return sum(1 for w in words if w != "done") - words.count("done")


def _wait(ps: PlanStep, block: str, n: int, variables: dict[str, str]) -> Command:
    """A health-wait idiom as one bounded wait: containers named by ``docker inspect``, seconds from the loop."""
    if not _HEALTH_IDIOM.search(block):
        raise _refuse("a shell loop that waits for nothing the grader recognises (only health-wait loops run)", n)
    heads = {
        seg.strip().split(None, 1)[0].lstrip("!").strip("'\"")
        for seg in re.split(r"[;\n|&()]|\$\(|\bdo\b|\bthen\b|\belse\b|\b-c\b", block)
        if seg.strip()
    }
    heads = {h for h in heads if re.match(r"^[A-Za-z_\[:.!/]", h) and not re.match(r"^[A-Za-z_]\w*=", h)}
    bad = sorted(h for h in heads if h not in _LOOP_WORDS)
    if bad:
        raise _refuse(f"`{bad[0][:30]}` inside a wait loop: only docker inspect, curl/wget, sleep and tests", n)
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


def _read_line(line: str, n: int, variables: dict[str, str]) -> list[Command]:
    """One logical line: its commands with the operators between them; refused parts name themselves."""
    unknown: set[str] = set()
    try:
        words = split_words(line, variables, unknown)
    except ShellUnsupported as e:
        raise _refuse(f"`{_short(line)}`: {e}", n) from e
    if "<<" in words:
        raise _refuse("a here-document is not replayed", n)
    out: list[Command] = []
    joiner, current = ";", []
    for w in [*words, ";"]:
        if w in (";", "&&", "||", "&"):
            if current:
                out.append(_read_command(without_redirections(current), line, n, variables, unknown, joiner))
            joiner, current = (w if w != "&" else ";"), []
        else:
            current.append(w)
    return out


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
            raise _refuse(f"`{_short(line)}`: a command with variables in front of it is not replayed", n)
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
        raise _refuse(
            f"`{head[:30]}` is not a command the grader replays (docker build/run/network/logs/rm/tag/push/...,"
            " echo, sleep, exit)",
            n,
        )
    expr = next((_unknown_expr(w) for w in words if UNKNOWN in w), "")
    if expr:
        raise _refuse(f"`${{{{ {expr} }}}}` is not an expression the grader evaluates", n)
    if unknown and words[1:2] != ["login"]:
        raise _refuse(f"`${sorted(unknown)[0]}` is set by no `env:` of the workflow, job or step", n)
    return _docker(words[1:], line, n, joiner)


def _piped(words: list[str], n: int) -> list[str]:
    """``echo/printf/cat ... | docker login ... --password-stdin``: the login (the left side is not run)."""
    cut = words.index("|")
    left, right = words[:cut], words[cut + 1 :]
    if "|" not in right and right[:2] == ["docker", "login"] and left and left[0] in ("echo", "printf", "cat"):
        return right
    shown = f"{left[0] if left else ''} ... | {right[0] if right else ''}"
    raise _refuse(f"`{shown[:60]}`: a pipe is not replayed (only `echo ... | docker login --password-stdin`)", n)


def _docker(words: list[str], line: str, n: int, joiner: str) -> Command:
    """A docker command through :data:`FLAGS`: its normalised verb, options and operands."""
    if not words or words[0].startswith("-"):
        raise _refuse("docker with global options (-H, --config, --context) is not replayed", n)
    verb = _MANAGEMENT.get((words[0], words[1] if len(words) > 1 else ""))
    rest = words[2:] if verb else words[1:]
    verb = verb or _SINGLE.get(words[0])
    if verb is None:
        shown = " ".join(words[:2]) if words[0] in ("container", "image", "network", "buildx") else words[0]
        raise _refuse(f"`docker {shown[:30]}` is not replayed (allowed: {', '.join(sorted(_SINGLE))}, network ...)", n)
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
            raise _refuse(f"`docker {verb.replace('-', ' ')} {name[:30]}`: not an option the grader replays", n)
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
        raise _refuse(f"`--network {net}`: only networks the workflow creates", n)
    if cmd.verb == "network-create" and cmd.flag("--driver", "-d") not in (None, "bridge"):
        raise _refuse("`docker network create --driver`: only bridge networks", n)
    for value in cmd.values("--platform"):
        _host_platform(value, n)
    wanted = {"build": (1, 1), "tag": (2, 2), "push": (1, 1), "network-create": (1, 1), "run": (1, 999)}
    low, high = wanted.get(cmd.verb, (0, 999))
    if not low <= len(cmd.operands) <= high:
        raise _refuse(f"`docker {cmd.verb.replace('-', ' ')}` with {len(cmd.operands)} operands", n)
