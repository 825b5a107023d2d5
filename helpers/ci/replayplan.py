"""Read a workflow's jobs and steps into the docker operations a grader may replay, without running anything.

The grader never runs a student's shell next to an engine socket. This reader turns each step, in order, into
:class:`Command` values through an allow-list, for one graded run (a branch and an event):

- ``run:`` lines, read by :mod:`helpers.ci.replaylines`: ``docker build``/``buildx build`` (:data:`FLAGS` lists
  the options per command), ``network create|rm``, ``run``, ``exec``, ``logs``, ``inspect``, ``ps``, ``stop``,
  ``rm``, ``tag``, ``push``, ``image ls``, ``login`` (the grader's own credentials); ``echo``/``printf``/``true``/
  ``set`` (not run), ``sleep N`` (capped), ``exit N``, variable assignments; lists (``a && b || c``, ``;``,
  ``&``), ``! command``, ``echo ... | docker login``.
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
The plan's types live in :mod:`helpers.ci.replaymodel` and are re-exported here.

The plan is the one reader of what a workflow builds: :attr:`Plan.builds` (each a :class:`Build`: Dockerfile,
context, tags, build arguments), :func:`first_build` and :func:`build_from_workflow` answer every caller.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from pathlib import Path
from typing import Any

from helpers.ci.expressions import Context, ExpressionRefused, condition, substitute
from helpers.ci.replaylines import FLAGS, host_platform, read_run
from helpers.ci.replaymodel import WAIT, Build, Command, Plan, PlanJob, PlanStep, Refused, refuse, unknown_expr
from helpers.ci.workflowfile import load_workflow, workflow_text
from helpers.errors import CourseError
from helpers.paths import course_root

__all__ = ["Build", "Command", "PlanStep", "PlanJob", "Plan", "read_plan", "run_context", "FLAGS", "WAIT"]
__all__ += ["first_build", "build_from_workflow"]

MAX_STEPS = 40
MAX_COMMANDS = 80


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


def first_build(plan: Plan) -> Build:
    """The first build the plan's steps name, in file order (whatever the steps' conditions).

    Raises:
        CourseError: No step builds an image the replay can read (a refused build line is in ``plan.refusals``).
    """
    if not plan.builds:
        raise CourseError(
            "The workflow has no `docker build ... CONTEXT` step the kit can run.",
            "Add a step like `docker build -t sample-app:ci sample_python_app`.",
        )
    return plan.builds[0]


def build_from_workflow(workflow: str | Path, root: str | Path | None = None) -> tuple[Path, Path]:
    """The (Dockerfile, context) of a workflow's first build, resolved against ``root`` (the repository root).

    A build is a ``run:`` line with ``docker build``/``docker buildx build`` or a ``docker/build-push-action``
    step, read by the plan (as a push to main; the paths do not depend on the branch).

    Raises:
        CourseError: No step builds (see :func:`first_build`); the workflow does not load.
    """
    _, text = workflow_text(workflow)
    plan = read_plan(load_workflow(workflow), "main", "0" * 40, text=text)
    return first_build(plan).paths(Path(root or course_root()))


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
            raise refuse(f"`shell: {str(step.get('shell'))[:30]}`: only bash and sh steps are replayed")
        if step.get("uses"):
            _read_uses(ps, str(step["uses"]), dict(step.get("with") or {}), str(step.get("id") or ""), sctx)
        elif step.get("run") is not None:
            read_run(ps, substitute(str(step["run"]), sctx), _github_env(ctx) | env, _run_line(lines, line))
            ps.commands = [_in_dir(c, str(step.get("working-directory") or wd)) for c in ps.commands]
    except Refused as e:
        plan.refusals.append(f"{ps.where(getattr(e, 'line', 0))}: {e}")
    return ps


def _in_dir(cmd: Command, wd: str) -> Command:
    """A build's Dockerfile and context as paths from the repository root (``working-directory`` joined)."""
    if not wd or wd == "." or cmd.verb != "build":
        return cmd
    flags = tuple((f, posixpath.normpath(posixpath.join(wd, v)) if f in ("-f", "--file") else v) for f, v in cmd.flags)
    operands = (posixpath.normpath(posixpath.join(wd, cmd.operands[0])),)
    return dataclasses.replace(cmd, flags=flags, operands=operands)


# --- uses: steps -------------------------------------------------------------------------------------------


def _inputs(with_: dict[str, Any], ctx: Context, line: int) -> dict[str, str]:
    out = {}
    for k, v in with_.items():
        value = substitute(str(v).lower() if isinstance(v, bool) else str(v), ctx)
        if unknown_expr(value):
            raise refuse(f"`with: {k}` uses `${{{{ {unknown_expr(value)} }}}}`, which the grader does not evaluate")
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
            raise refuse(f"docker/metadata-action `tags: {spec[:40]}`: a form the grader does not compute")
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
        host_platform(platform_, ps.line)
    if inputs.get("cache-from") or inputs.get("cache-to"):
        ps.notes.append("cache-from/cache-to are ignored: the grader builds with its own cache")
    ps.commands.append(Command("docker", ps.line, f"uses: {action}", "build", tuple(flags), (context,)))
    if inputs.get("push", "false").lower() == "true":
        for tag in _items(inputs.get("tags", "")):
            ps.commands.append(Command("docker", ps.line, f"uses: {action} (push)", "push", (), (tag,)))
