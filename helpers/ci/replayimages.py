"""The image commands of a workflow replay: ``docker build``/``tag``/``push``/``rmi``/``image ls``/``login``.

Each is a docker SDK call through the kit on :class:`~helpers.ci.replaynames.ReplayState`'s names. A build is
what its :class:`~helpers.ci.replaymodel.Build` says (the plan's one reading of a build line), with the
Dockerfile and context the caller's ``resolve`` allows, tagged ``course-kit/replay-<run>/<ref>`` with the kit's
labels; a push goes to the grader's local registry with the kit's credentials (``ghcr.io/OWNER/app:TAG`` is pushed
as ``REGISTRY/OWNER/app:TAG``); ``docker login`` is the grader's own.
"""

from __future__ import annotations

from pathlib import Path

from helpers.ci.replaymodel import Command
from helpers.ci.replaynames import LIMITS, ReplayState, StepFailed, norm_ref, strip_host
from helpers.engine.registry import local_registry
from helpers.images.build import build

__all__ = ["ImageOps"]


class ImageOps(ReplayState):
    """``do_build``, ``do_tag``, ``do_push``, ``do_rmi``, ``do_image_ls``, ``do_login`` of a replay."""

    def do_build(self, cmd: Command) -> str:
        spec = cmd.build()
        dockerfile, context = self.resolve(spec)
        refs = list(spec.tags) or [f"anonymous-{len(self.images)}"]
        tags = [self.local(r) for r in refs]
        r = build(
            context,
            dockerfile=dockerfile,
            tags=tags,
            build_args=dict(spec.build_args),
            target=spec.target,
            labels={**spec.labels, **self.labels},
            timeout=LIMITS["build"],
            client=self.c,
        )
        for ref, tag in zip(refs, tags):
            self.images[norm_ref(ref)] = tag
            self.built_from[tag] = dockerfile.resolve()
        said = f"built {', '.join(refs)} ({r.cache_hits}/{len(r.steps)} steps cached)"
        if spec.push:
            said += "; " + "; ".join(self.push(ref) for ref in refs)
        return said

    def do_tag(self, cmd: Command) -> str:
        src, dst = cmd.operands
        repo, tag = self.local(dst).rsplit(":", 1)
        self.c.images.get(self.image(src)).tag(repo, tag)
        self.images[norm_ref(dst)] = self.local(dst)
        self.built_from[self.local(dst)] = self.built_from.get(self.image(src), Path())
        return f"tagged {dst}"

    def do_push(self, cmd: Command) -> str:
        return self.push(cmd.operands[0])

    def push(self, ref: str) -> str:
        """Push an image the workflow built to the grader's registry (kit credentials), as REGISTRY/<path>:<tag>."""
        reg = local_registry()
        repo, tag = norm_ref(ref).rsplit(":", 1)
        target = f"{reg.address}/{strip_host(repo)}".lower()
        self.c.images.get(self.image(ref)).tag(target, tag)
        try:
            out = self.c.images.push(target, tag=tag, auth_config=reg.auth_config(), stream=True, decode=True)
            errors = [x["error"] for x in out if "error" in x]
        finally:
            self.c.images.remove(f"{target}:{tag}")
        if errors:
            raise StepFailed(f"push to {reg.address} failed: {errors[0]}")
        self.report.pushed = f"{target}:{tag}"
        return f"pushed {ref} to the grader's registry as {target}:{tag}"

    def do_rmi(self, cmd: Command) -> str:
        for ref in cmd.operands:
            self.c.images.remove(self.image(ref), force=cmd.flag("-f", "--force") is not None)
            self.images.pop(norm_ref(ref))
        return f"removed {' '.join(cmd.operands)}"

    def do_image_ls(self, cmd: Command) -> str:
        return f"{len(self.images)} images"

    def do_login(self, cmd: Command) -> str:
        return "logged in to the grader's registry (its own credentials)"

    def do_logout(self, cmd: Command) -> str:
        return ""
