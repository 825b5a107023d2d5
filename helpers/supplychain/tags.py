"""Immutable and rolling tags, and the digest that pins an image for good.

A tag is a movable name; a digest (``repo@sha256:...``) names one manifest forever. CD should
deploy digests (or tags that are never reused, like a commit sha), never a rolling ``latest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpers.engine.client import get_client
from helpers.engine.registry import local_registry
from helpers.errors import RegistryError

__all__ = ["push_tag", "delete_manifest", "TagState", "tag_table"]


def push_tag(image: str, repo: str, tag: str, registry: Any = None, client: Any = None) -> str:
    """Tag a local image as ``repo:tag``, push it, remove the local tag, return the manifest digest.

    Args:
        image: Local image id or reference.
        repo: Repository including the registry address (``127.0.0.1:5000/app``).
        tag: The tag to push.
        registry: A :class:`helpers.engine.registry.RegistryInfo` (default: the local registry).
        client: docker-py client.

    Raises:
        RegistryError: The push failed or reported no digest.
    """

    c = get_client(client)
    reg = registry or local_registry()
    ref = f"{repo}:{tag}"
    c.images.get(image).tag(repo, tag)
    try:
        digest = ""
        for msg in c.images.push(repo, tag=tag, auth_config=reg.auth_config(), stream=True, decode=True):
            if "error" in msg:
                raise RegistryError(f"push of {ref} failed: {msg['error']}", "Check `python -m helpers env status`.")
            digest = (msg.get("aux") or {}).get("Digest", digest)
    finally:
        c.images.remove(ref)
    if not digest:
        raise RegistryError(f"push of {ref} reported no digest.", "Check the registry log.")
    return digest


def delete_manifest(repo: str, digest: str, registry: Any = None) -> bool:
    """Delete one manifest (by digest) from the local registry; True when it was deleted.

    Every tag that points at it goes with it. The blobs stay until the registry's garbage collection.
    """
    import requests

    reg = registry or local_registry()
    name = repo.split("/", 1)[1] if repo.startswith(reg.address + "/") else repo
    try:
        r = requests.delete(f"{reg.url}/v2/{name}/manifests/{digest}", auth=(reg.username, reg.password), timeout=10)
    except requests.RequestException:
        return False
    return r.status_code == 202


@dataclass
class TagState:
    """Where one reference pointed before and after a release."""

    reference: str
    kind: str
    before: str
    after: str

    @property
    def moved(self) -> bool:
        return bool(self.before) and self.before != self.after


def tag_table(states: list[TagState]) -> Any:
    """The references as a DataFrame (short digests; moved = it now names another image)."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "reference": s.reference,
                "kind": s.kind,
                "before": s.before[7:19] if s.before else "-",
                "after": s.after[7:19] if s.after else "-",
                "moved": s.moved,
            }
            for s in states
        ]
    )
