"""How Lab 4 (``source/lab4-publish``) is graded: the student's ``publish.sh``, read and replayed, never run.

The student writes ``publish.sh`` (``docker login``, ``tag``, ``push``, ``pull`` by digest) and runs it in the
notebook with ``!bash publish.sh``. The grader never executes it: a shell script next to an engine socket is
root on the grading host. :func:`verdicts` reads it with the allow-list reader
(:mod:`helpers.grading.labs.publishscript`), builds the lab's own image (:func:`lab4_image`, not the student's),
and replays the kept lines with docker-py against its own registry, a fresh repository per submission and its
own credentials. It then asks the registry what it serves (tags, the digest each resolves to) and pulls by
that digest: every digest is computed by the grader, none is read from the notebook.
"""

from __future__ import annotations

import functools
import hashlib
import re
import shutil
from dataclasses import dataclass, field
from typing import Any

from helpers.engine.client import get_client
from helpers.engine.registry import RegistryInfo, local_registry
from helpers.errors import CourseError
from helpers.grading.labs.common import build_timeout, submission_tag
from helpers.grading.labs.publishscript import DIGEST_MARK, PUSHED_MARK, Op, Reading, read_publish_script
from helpers.grading.session import current_session
from helpers.grading.verdicts import Submission, Verdict
from helpers.images.build import build
from helpers.supplychain.publish import pull_by_digest, push
from helpers.supplychain.registryapi import RegistryClient
from helpers.supplychain.remediation import app_context, app_requirements

__all__ = ["LAB4_IMAGE", "NOTEBOOK_IMAGE", "SCRIPT", "SEMVER", "lab4_image", "lab_variables", "verdicts"]

#: The Lab 4 image (the lab's own Dockerfile, not the student's): built by the grader, published by the script.
LAB4_IMAGE = "course-lab4/sample-api:graded"
#: ``$IMAGE`` in the notebook; written literally in a script it means ``$IMAGE`` too.
NOTEBOOK_IMAGE = "sample-api:latest"
SCRIPT = "publish.sh"
#: A version tag: MAJOR.MINOR.PATCH (semver 2.0, an optional ``v`` and pre-release; no ``+``: tags refuse it).
SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")
LAB4_DOCKERFILE = """ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app ./app
ARG APP_GREETING="hello from v1"
ENV APP_GREETING=${APP_GREETING} PORT=8000 DATA_DIR=/data
HEALTHCHECK --interval=2s --timeout=2s --retries=10 \\
  CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
CMD ["python3", "-m", "app"]
"""
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_IMAGES: dict[str, str] = {}


@dataclass
class Replay:
    """What replaying the script did: tags pushed (tag -> digest), pulls by digest, refusals (one line each)."""

    target: str
    logged_in: bool = False
    local: set[str] = field(default_factory=set)
    pushed: dict[str, str] = field(default_factory=dict)
    pulled: list[tuple[int, str, str]] = field(default_factory=list)  # line, digest, image id
    by_tag: list[tuple[int, str]] = field(default_factory=list)
    literal: list[tuple[int, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def lab4_image(client: Any = None) -> str:
    """Build the Lab 4 image (v1) under this submission's tag; returns that tag (built once per tag)."""
    real = submission_tag(LAB4_IMAGE)
    if real not in _IMAGES:
        ctx = app_context({"requirements.txt": app_requirements(), "Dockerfile": LAB4_DOCKERFILE})
        try:
            args = {"APP_GREETING": "hello from v1"}
            build(ctx, build_args=args, tags=[real], timeout=build_timeout(), client=client)
        finally:
            shutil.rmtree(ctx, ignore_errors=True)
        _IMAGES[real] = real
    return real


def lab_variables(reg: RegistryInfo, image: str) -> dict[str, str]:
    """The variables the lab gives ``publish.sh``, with the grader's values (a fresh repository per run)."""
    session = current_session()
    run = session.id if session else hashlib.sha256(image.encode()).hexdigest()[:10]
    return {
        "IMAGE": image,
        "REGISTRY": reg.address,
        "REPOSITORY": f"course/lab4-g{run}",
        "REGISTRY_USER": reg.username,
        "REGISTRY_PASSWORD_FILE": "/run/grader-keeps-its-own-password",
        "GIT_SHA": hashlib.sha1(run.encode()).hexdigest()[:7],
    }


def verdicts(sub: Submission) -> dict[str, Verdict]:
    """``version_tag_pushed`` and ``digest_resolves``, decided from ``publish.sh`` replayed on the grader's registry."""
    text = sub.text(SCRIPT)
    if text is None:
        why = f"no {SCRIPT} in your lab folder (or bigger than 256 KiB): the grader replays that file"
        return {"version_tag_pushed": Verdict(False, why), "digest_resolves": Verdict(False, why)}
    reg = local_registry()
    client = get_client()
    image = lab4_image(client)
    env = lab_variables(reg, image)
    reading = read_publish_script(text, env)
    rep = _replay(reading, env, reg, client)
    image_id = client.images.get(image).id
    served = _served(reg, env["REPOSITORY"])
    session = current_session()
    if session:
        session.on_close(functools.partial(_forget, reg, env["REPOSITORY"], sorted(set(served.values()))))
    skipped = _skipped(reading)
    return {
        "version_tag_pushed": _version_verdict(reading, rep, served, env["GIT_SHA"], skipped),
        "digest_resolves": _digest_verdict(rep, served, image_id, skipped),
    }


def _replay(reading: Reading, env: dict[str, str], reg: RegistryInfo, client: Any) -> Replay:
    """Replay the kept docker lines in order with docker-py (the grader's credentials); nothing else runs."""
    rep = Replay(f"{env['REGISTRY']}/{env['REPOSITORY']}")
    sources = {env["IMAGE"], NOTEBOOK_IMAGE, NOTEBOOK_IMAGE.split(":")[0]}
    for op in reading.ops:
        try:
            if op.verb == "login":
                rep.logged_in = True
            elif op.verb == "tag":
                _tag(op, rep, sources, env["IMAGE"], client)
            elif op.verb == "push":
                _push(op, rep, env, reg, client)
            else:
                _pull(op, rep, env, reg, client)
        except CourseError as e:
            rep.errors.append(f"line {op.line}: {e.message}")
    return rep


def _in_target(rep: Replay, ref: str) -> str:
    """The tag of ``ref`` when it is ``$REGISTRY/$REPOSITORY:TAG``.

    Raises:
        CourseError: Another registry or repository, or not a valid tag.
    """
    prefix = rep.target + ":"
    if not ref.startswith(prefix) or not _TAG.match(ref[len(prefix) :]):
        raise CourseError(f"{ref[:80]} is not $REGISTRY/$REPOSITORY:TAG: the grader only publishes there", "")
    return ref[len(prefix) :]


def _tag(op: Op, rep: Replay, sources: set[str], image: str, client: Any) -> None:
    """``docker tag SRC DST``: SRC is ``$IMAGE`` (or a tag made before), DST is in ``$REGISTRY/$REPOSITORY``."""
    src, dst = op.operands
    tag = _in_target(rep, dst)
    if src not in sources and src not in rep.local:
        raise CourseError(f"tags {src[:80]}, which is neither $IMAGE nor a tag made before", "")
    client.images.get(image if src in sources else src).tag(rep.target, tag)
    rep.local.add(dst)
    session = current_session()
    if session:
        session.on_close(functools.partial(_untag, dst))


def _push(op: Op, rep: Replay, env: dict[str, str], reg: RegistryInfo, client: Any) -> None:
    """``docker push REF``, or ``docker push --all-tags $REGISTRY/$REPOSITORY`` (every tag made there before)."""
    if not {"-a", "--all-tags"} & set(op.flags):
        _push_one(op.operands[0], rep, env, reg, client)
        return
    if op.operands[0] != rep.target:
        raise CourseError(f"pushes every tag of {op.operands[0][:80]}, not of $REGISTRY/$REPOSITORY", "")
    refs = sorted(r for r in rep.local if r.startswith(rep.target + ":"))
    if not refs:
        raise CourseError("docker push --all-tags before any docker tag line made a tag to push", "")
    for ref in refs:
        _push_one(ref, rep, env, reg, client)


def _push_one(ref: str, rep: Replay, env: dict[str, str], reg: RegistryInfo, client: Any) -> None:
    """``docker push REF``: after a login, a REF an earlier ``docker tag`` made; records the digest pushed."""
    tag = _in_target(rep, ref)
    if ref not in rep.local:
        raise CourseError(f"pushes {ref[:80]}, which no earlier docker tag line made", "")
    if not rep.logged_in:
        raise CourseError("docker push before docker login: the registry refuses it", "")
    res = push(ref, reg.address, env["REPOSITORY"], tag, reg.username, reg.password, immutable=False, client=client)
    rep.pushed[tag] = res.digest


def _pull(op: Op, rep: Replay, env: dict[str, str], reg: RegistryInfo, client: Any) -> None:
    """``docker pull``: by a captured digest (the grader computes it), by a digest written out, or by tag."""
    ref = op.operands[0]
    if ref.startswith(DIGEST_MARK):
        tag = _in_target(rep, ref[len(DIGEST_MARK) :])
        if tag not in rep.pushed:
            raise CourseError(f"pulls the digest of :{tag[:40]}, which the script did not push", "")
        api = RegistryClient(reg.address, reg.username, reg.password)
        digest = api.manifest_digest(env["REPOSITORY"], tag) or ""
        image = pull_by_digest(reg.address, env["REPOSITORY"], digest, reg.username, reg.password, client=client)
        rep.pulled.append((op.line, digest, image.id))
        session = current_session()
        if session:
            session.on_close(functools.partial(_untag, f"{rep.target}@{digest}"))
    elif PUSHED_MARK in ref:
        _pull_pushed(ref, rep, env, reg, client, op.line)
    elif DIGEST_MARK in ref:
        raise CourseError('the captured value is already repo@sha256:...: pull "$DIGEST" itself', "")
    elif "@" in ref:
        rep.literal.append((op.line, ref[:100]))
    else:
        rep.by_tag.append((op.line, ref[:100]))


def _pull_pushed(ref: str, rep: Replay, env: dict[str, str], reg: RegistryInfo, client: Any, line: int) -> None:
    """``docker pull "$REGISTRY/$REPOSITORY@$DIGEST"`` with DIGEST taken from a push's output: the digest the
    grader's replay of that push got."""
    repo, _, pushed = ref.partition("@")
    if repo != rep.target or not pushed.startswith(PUSHED_MARK):
        raise CourseError('pull "$REGISTRY/$REPOSITORY@$DIGEST" with the digest the push printed', "")
    tag = _in_target(rep, pushed[len(PUSHED_MARK) :])
    digest = rep.pushed.get(tag)
    if not digest:
        raise CourseError(f"pulls the digest of :{tag[:40]}, which the script did not push", "")
    image = pull_by_digest(reg.address, env["REPOSITORY"], digest, reg.username, reg.password, client=client)
    rep.pulled.append((line, digest, image.id))
    session = current_session()
    if session:
        session.on_close(functools.partial(_untag, f"{rep.target}@{digest}"))


def _served(reg: RegistryInfo, repository: str) -> dict[str, str]:
    """Tag -> digest, as the grader's registry serves them now (the truth, whatever the script printed)."""
    api = RegistryClient(reg.address, reg.username, reg.password)
    try:
        tags = {t: api.manifest_digest(repository, t) or "" for t in api.tags(repository)[:50]}
    except CourseError:
        return {}
    return {t: d for t, d in tags.items() if d}


def _skipped(reading: Reading) -> str:
    """One line naming what the grader did not run (empty when everything was read)."""
    if not reading.ignored:
        return ""
    first = "; ".join(f"line {n}: {text} ({why})" for n, text, why in reading.ignored[:2])
    more = f" and {len(reading.ignored) - 2} more" if len(reading.ignored) > 2 else ""
    return f"\nNot run by the grader: {first}{more}."


def _version_verdict(reading: Reading, rep: Replay, served: dict[str, str], sha: str, skipped: str) -> Verdict:
    """Logged in with ``--password-stdin``; a MAJOR.MINOR.PATCH tag and a tag naming the commit were pushed."""
    errors = f" ({rep.errors[0]})" if rep.errors else ""
    if reading.flagged:
        n, text, _ = reading.flagged[0]
        return Verdict(
            False,
            f"line {n}: `{text}` puts the password on the command line (shell history, `ps`); "
            f'pipe it in with --password-stdin < "$REGISTRY_PASSWORD_FILE".{skipped}',
        )
    if not any(op.verb == "login" for op in reading.ops):
        return Verdict(False, f"no `docker login` line: the registry refuses a push without it.{skipped}")
    shown = ", ".join(sorted(served)) or "no tag"
    if not any(SEMVER.match(t) for t in served):
        return Verdict(False, f"the registry holds {shown}: no version tag MAJOR.MINOR.PATCH (0.1.0).{errors}{skipped}")
    if not any(sha in t for t in served):
        return Verdict(False, f"the registry holds {shown}: no tag names the commit $GIT_SHA.{errors}{skipped}")
    return Verdict(True, f"the registry holds {shown}, pushed by the replay of your script.{skipped}")


def _digest_verdict(rep: Replay, served: dict[str, str], image_id: str, skipped: str) -> Verdict:
    """Every pushed tag resolves to one digest; a pull by that digest (captured, not typed) gives the image tagged."""
    errors = f" ({rep.errors[-1]})" if rep.errors else ""
    if not served:
        return Verdict(False, f"nothing was pushed, so no digest to pull.{errors}{skipped}")
    if len(set(served.values())) > 1:
        return Verdict(False, f"your tags resolve to {len(set(served.values()))} different digests.{skipped}")
    digest = next(iter(served.values()))
    if not rep.pulled:
        if rep.literal:
            n, ref = rep.literal[0]
            why = f"line {n} pulls a digest typed into the script: capture it from the push instead"
        elif rep.by_tag:
            n, ref = rep.by_tag[0]
            why = f"line {n} pulls {ref} by tag: a tag can move; pull by digest"
        else:
            why = "no `docker pull` by digest"
        return Verdict(False, f"{why}.{errors}{skipped}")
    n, pulled_digest, pulled_id = rep.pulled[-1]
    if pulled_digest != digest or pulled_id != image_id:
        return Verdict(False, f"line {n}: the pull by digest gave another image than the one you tagged.{skipped}")
    return Verdict(
        True,
        f"{', '.join(sorted(served))} resolve to {digest[:19]}...; the pull by digest (line {n}) "
        f"gives the image you tagged.{skipped}",
    )


def _forget(reg: RegistryInfo, repository: str, digests: list[str]) -> None:
    """Delete the replay's manifests from the registry (its tags go with them; blobs wait for the registry's GC)."""
    api = RegistryClient(reg.address, reg.username, reg.password)
    for digest in digests:
        try:
            api.delete_manifest(repository, digest)
        except CourseError:
            pass


def _untag(ref: str) -> None:
    """Remove one reference the replay made (the image stays when another tag holds it)."""
    from docker.errors import APIError, NotFound

    try:
        get_client().images.remove(ref, noprune=True)
    except (NotFound, APIError):
        pass
