"""Publishing images: log in, tag, push, pull by digest, and check what the registry now serves.

The engine does the pushing and pulling (``docker login/push/pull``); the registry's own HTTP
API (:class:`helpers.supplychain.registryapi.RegistryClient`) is asked before and after, so
that a wrong password fails before anything is pushed and a push is only reported once the
registry serves exactly the pushed digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from helpers.engine.client import get_client
from helpers.errors import ImageNotFound, RegistryAuthError, RegistryError
from helpers.supplychain.registryapi import RegistryClient

__all__ = ["PushResult", "login", "push", "pull_by_digest"]

_VERSION_TAG = re.compile(r"^v?\d+\.\d+\.\d+([.-][0-9A-Za-z.-]+)?$")


@dataclass
class PushResult:
    """A pushed image: ``reference`` (registry/repo:tag) and the manifest ``digest`` it resolves to."""

    reference: str
    repository: str
    tag: str
    digest: str

    @property
    def pinned(self) -> str:
        """``registry/repo@sha256:...``: the reference that never moves."""
        return f"{self.reference.rsplit(':', 1)[0]}@{self.digest}"


def login(address: str, username: str, password: str, client: Any = None) -> None:
    """``docker login`` through the engine.

    Raises:
        RegistryAuthError: Wrong user name or password.
        RegistryError: The registry cannot be reached.
    """
    from docker.errors import APIError

    RegistryClient(address, username, password).ping()  # clear errors before the engine's
    try:
        get_client(client).login(username=username, password=password, registry=address, reauth=True)
    except APIError as e:
        if "unauthorized" in str(e).lower() or e.status_code == 401:
            raise RegistryAuthError(address) from e
        raise RegistryError(f"docker login to {address} failed: {e.explanation}", "Check the address.") from e


def push(
    image: str,
    address: str,
    repository: str,
    tag: str,
    username: str | None = None,
    password: str | None = None,
    immutable: bool | None = None,
    client: Any = None,
) -> PushResult:
    """Tag ``image`` as ``address/repository:tag``, push it, and check what the registry now serves.

    Args:
        image: Local image reference or id.
        address: Registry ``host:port``.
        repository: Repository name (``course/sample-api``).
        tag: Tag to push (``1.0.0``, ``latest``).
        username: Registry user.
        password: Registry password or token.
        immutable: Refuse to move a tag that already points at other content. Default: True
            for version tags (``1.2.3``), False for rolling tags (``latest``, ``main``).
        client: docker-py client.

    Raises:
        ImageNotFound: No such local image.
        RegistryAuthError, RegistryError: Login, reachability, immutability or verification failed.
    """
    engine = get_client(client)
    api = RegistryClient(address, username, password)
    api.ping()  # unreachable registry or wrong password: fail before anything is pushed
    img = _local_image(engine, image)
    target = f"{address}/{repository}"
    immutable = bool(_VERSION_TAG.match(tag)) if immutable is None else immutable
    if immutable:
        _refuse_moving_tag(api, img, target, repository, tag)
    had_local_tag = f"{target}:{tag}" in (img.tags or [])
    img.tag(target, tag)
    try:
        digest = _push_stream(engine, address, target, tag, username, password)
        _check_served(api, target, repository, tag, digest)
    except Exception:
        if not had_local_tag and img.tags:
            _untag(engine, f"{target}:{tag}")
        raise
    return PushResult(f"{target}:{tag}", repository, tag, digest)


def _local_image(engine: Any, image: str) -> Any:
    """The docker-py Image for ``image``; :class:`ImageNotFound` when the engine has no such image."""
    from docker.errors import ImageNotFound as _NF

    try:
        return engine.images.get(image)
    except _NF as e:
        raise ImageNotFound(image) from e


def _refuse_moving_tag(api: RegistryClient, img: Any, target: str, repository: str, tag: str) -> None:
    """Raise when ``target:tag`` already exists in the registry and points at content other than ``img``."""
    current = api.manifest_digest(repository, tag)
    if current and _local_digest(img, target) != current:
        raise RegistryError(
            f"{target}:{tag} already exists and points at {current[:19]}...; version tags do not move.",
            "Publish the new content under a new version (e.g. bump the patch number).",
        )


def _check_served(api: RegistryClient, target: str, repository: str, tag: str, digest: str) -> None:
    """Raise unless the registry now resolves ``tag`` to the ``digest`` the push reported."""
    served = api.manifest_digest(repository, tag)
    if not digest or served != digest:
        raise RegistryError(
            f"After the push, {target}:{tag} resolves to {served}, not to the pushed {digest}.",
            "Someone else pushed the same tag at the same time; push again and pin by digest.",
        )


def _untag(engine: Any, reference: str) -> None:
    """Remove the local tag a failed push left, so nothing looks published.

    Only the tag goes (``noprune``): an image whose only name was this tag is never deleted.
    """
    try:
        engine.images.remove(reference, noprune=True)
    except Exception:  # noqa: BLE001 - the original error matters more
        pass


def _push_stream(engine: Any, address: str, target: str, tag: str, username: str | None, password: str | None) -> str:
    """Run ``docker push`` through the engine; return the manifest digest it reports."""
    from docker.errors import APIError

    auth = {"username": username, "password": password} if username else None
    digest = ""
    try:
        for line in engine.api.push(target, tag=tag, stream=True, decode=True, auth_config=auth):
            if "error" in line:
                msg = str(line.get("error"))
                if "unauthorized" in msg.lower() or "authentication required" in msg.lower():
                    raise RegistryAuthError(address)
                raise RegistryError(
                    f"Pushing {target}:{tag} failed: {msg}",
                    "Run the push again; a registry only "
                    "creates the tag once every layer arrived, so nothing half-pushed is tagged.",
                )
            digest = (line.get("aux") or {}).get("Digest", digest)
    except APIError as e:
        raise RegistryError(
            f"Pushing {target}:{tag} failed: {e.explanation}", "Check the registry and run again."
        ) from e
    return str(digest)


def _local_digest(img: Any, target: str) -> str:
    """The digest ``img`` had when last pushed to or pulled from ``target`` ("" if never)."""
    for rd in img.attrs.get("RepoDigests") or []:
        if rd.startswith(target + "@"):
            return str(rd.split("@", 1)[1])
    return ""


def pull_by_digest(
    address: str,
    repository: str,
    digest: str,
    username: str | None = None,
    password: str | None = None,
    client: Any = None,
) -> Any:
    """Pull ``address/repository@digest`` and return the docker-py Image."""
    from docker.errors import APIError

    auth = {"username": username, "password": password} if username else None
    try:
        return get_client(client).images.pull(f"{address}/{repository}@{digest}", auth_config=auth)
    except APIError as e:
        if "unauthorized" in str(e).lower():
            raise RegistryAuthError(address) from e
        raise RegistryError(
            f"Pulling {repository}@{digest[:19]}... failed: {e.explanation}",
            "Check the digest: copy it from the push result.",
        ) from e
