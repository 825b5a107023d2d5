"""What a workflow security review looks for in a container pipeline: token permissions, injection, pins, gates.

:mod:`helpers.ci.workflow` checks that a workflow builds, tests and pushes; this module checks what a
security linter (zizmor, actionlint's expression checks) and a careful reviewer add on top:

- ``permissions:``: the token is least-privilege (nothing written at the workflow level, ``write-all`` nowhere,
  only ``packages``/``id-token``/``attestations`` written by a job);
- no ``${{ github.* }}`` expression pasted into a ``run:`` script (a branch name or PR title is attacker text);
- every action pinned by a full commit SHA (a tag such as ``@v4`` can be moved to other code);
- the image is built on pull requests (no main-only gate on the build), and pushed only from ``main``, with a gate
  that holds even when ``push`` runs on other branches;
- the app's logs and the tear-down run even after a failed step (``if: always()``).

Every function is pure (workflow text in, problems out) and linear in the text: the text is a student's.
"""

from __future__ import annotations

import re
from typing import Any

from helpers.ci.workflow import _BUILD, _MAIN_COND, _pushes
from helpers.ci.workflowfile import Step, workflow_steps

__all__ = [
    "WRITE_SCOPES",
    "expressions",
    "permission_problems",
    "injections",
    "injection_text",
    "unpinned_actions",
    "build_gated_on_main",
    "gate_problems",
    "cleanup_problems",
    "security_review",
]

#: The scopes a container job may write: push the image, sign it (OIDC), attest it.
WRITE_SCOPES = ("packages", "id-token", "attestations")
_SHA_PIN = re.compile(r"[^@\s]+@[0-9a-f]{40}")
_DIGEST_PIN = re.compile(r"docker://[^@\s]+@sha256:[0-9a-f]{64}")
_GITHUB_CTX = re.compile(r"(?<![\w.])github\s*(?:\.|\[)")
_REF_MAIN = re.compile(r"refs/heads/main|github\.ref_name\s*==\s*'main'")
_ALWAYS = re.compile(r"always\(\)|failure\(\)|!\s*cancelled\(\)")
_LOGS = re.compile(r"docker\s+(?:container\s+)?logs\b|docker\s+compose\s+logs\b|docker-compose\s+logs\b")
_DOWN = re.compile(r"docker\s+(?:container\s+)?rm\b|docker\s+(?:compose|-compose)\s+down\b|docker-compose\s+down\b")


def expressions(text: str) -> list[str]:
    """The inside of every ``${{ ... }}`` in ``text``, in order (one linear scan)."""
    out, i = [], 0
    while (start := text.find("${{", i)) >= 0:
        end = text.find("}}", start + 3)
        if end < 0:
            break
        out.append(text[start + 3 : end].strip())
        i = end + 2
    return out


def _scopes(where: str, perms: Any, top: bool) -> list[str]:
    """What is too broad in one ``permissions:`` value (``top``: the workflow level)."""
    if perms is None or perms == {}:
        return []
    if isinstance(perms, str):
        return [f"{where} grants `{perms}`: name the scopes it needs"] if perms != "read-all" else []
    if not isinstance(perms, dict):
        return [f"{where} has `permissions: {str(perms)[:40]}`, not a mapping of scope: read|write|none"]
    writes = sorted(str(k) for k, v in perms.items() if str(v) == "write")
    if top and writes:
        return [f"{where} grants {', '.join(writes)}: write to every job, pull requests included; grant it on the job"]
    extra = [w for w in writes if w not in WRITE_SCOPES]
    return (
        [f"{where} grants {', '.join(extra)}: write, which building and pushing an image never needs"] if extra else []
    )


def permission_problems(doc: dict[str, Any]) -> list[str]:
    """Why the workflow's token is not least-privilege (empty when it is)."""
    jobs = {k: v for k, v in (doc.get("jobs") or {}).items() if isinstance(v, dict)}
    problems = _scopes("the workflow", doc.get("permissions"), top=True)
    bare = [name for name, job in jobs.items() if "permissions" not in job]
    if "permissions" not in doc and bare:
        problems.append(
            f"no `permissions:` for job {bare[0]!r}: its token gets the repository's default (often write to all); "
            "add `permissions: {contents: read}` at the top"
        )
    for name, job in jobs.items():
        problems += _scopes(f"job {name!r}", job.get("permissions"), top=False)
    return problems


def injections(steps: list[Step]) -> list[tuple[Step, str]]:
    """(step, expression) for each ``${{ github.* }}`` pasted into a ``run:`` script."""
    out = []
    for s in steps:
        for expr in dict.fromkeys(expressions(s.run)):  # each expression once per step
            if _GITHUB_CTX.search(expr):
                out.append((s, expr))
    return out


def injection_text(step: Step, expr: str) -> str:
    """What to say about one injected expression."""
    return f"step {step.name!r} pastes `${{{{ {expr} }}}}` into its script: pass it through `env:` and quote it"


def unpinned_actions(doc: dict[str, Any], steps: list[Step]) -> list[str]:
    """Each ``uses:`` not pinned by a full commit SHA (local ``./`` actions and digest-pinned images pass)."""
    used = [s.uses for s in steps if s.uses]
    used += [str(j["uses"]) for j in (doc.get("jobs") or {}).values() if isinstance(j, dict) and j.get("uses")]
    return [u for u in used if not (u.startswith("./") or _SHA_PIN.fullmatch(u) or _DIGEST_PIN.fullmatch(u))]


def _builds(step: Step) -> bool:
    return bool(_BUILD.search(step.run)) or "build-push-action" in step.uses


def build_gated_on_main(steps: list[Step]) -> bool:
    """True when every step that builds the image runs on main only (so pull requests never build it)."""
    builds = [s for s in steps if _builds(s)]
    return bool(builds) and all(_MAIN_COND.search(s.cond) or _MAIN_COND.search(s.job_cond) for s in builds)


def _push_branches(doc: dict[str, Any]) -> list[str] | None:
    """The branch filter of the ``push`` trigger (None: every branch and tag)."""
    on = doc.get("on")
    push = on.get("push") if isinstance(on, dict) else None
    if not isinstance(push, dict) or "branches-ignore" in push or "tags" in push:
        return None
    branches = push.get("branches")
    return [str(b) for b in branches] if isinstance(branches, list) else None


def gate_problems(doc: dict[str, Any], steps: list[Step]) -> list[str]:
    """Pushes gated only on ``github.event_name == 'push'`` while ``push`` runs on other branches too."""
    only_main = _push_branches(doc) == ["main"]
    problems = []
    for s in steps:
        pushes = _pushes(s.run) or ("build-push-action" in s.uses and str(s.with_.get("push", "false")) != "false")
        if not pushes or only_main:
            continue
        gate = f"{s.cond} {s.job_cond} {s.with_.get('push', '')}"
        if not _REF_MAIN.search(gate):
            problems.append(
                f"step {s.name!r} is gated on the event, and `on: push` runs on every branch: "
                "test `github.ref == 'refs/heads/main'`"
            )
    return problems


def cleanup_problems(steps: list[Step]) -> list[str]:
    """Missing ``if: always()`` steps that print the app's logs and tear it down."""
    always = [s for s in steps if _ALWAYS.search(s.cond)]
    problems = []
    if not any(_LOGS.search(s.run) for s in always):
        problems.append("no `if: always()` step prints the app's logs (`docker logs app`) when a step failed")
    if not any(_DOWN.search(s.run) for s in always):
        problems.append("no `if: always()` step tears the app down (`docker rm -f app`) when a step failed")
    return problems


def security_review(doc: dict[str, Any]) -> list[str]:
    """Every problem of this module for a parsed workflow (token, injection, pins, push gate, clean-up), in order."""
    steps = workflow_steps(doc)
    out = permission_problems(doc)
    out += [injection_text(s, e) for s, e in injections(steps)]
    out += [f"`uses: {u}` is not pinned by a full commit SHA" for u in unpinned_actions(doc, steps)]
    return out + gate_problems(doc, steps) + cleanup_problems(steps)
