"""Publishing images: log in, tag, push, and read a registry back through its HTTP API.

The HTTP API (``/v2/...``, the OCI distribution spec) is what ``docker push`` and
``docker pull`` speak; reading it directly shows what a registry really holds: repositories,
tags, and the manifest digest a tag points at right now.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from helpers.engine.client import get_client
from helpers.errors import ImageNotFound, RegistryAuthError, RegistryError

__all__ = ["RegistryClient", "PushResult", "login", "push", "pull_by_digest", "MANIFEST_TYPES"]

MANIFEST_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
]
_VERSION_TAG = re.compile(r"^v?\d+\.\d+\.\d+([.-][0-9A-Za-z.-]+)?$")


class RegistryClient:
    """A small client for a registry's HTTP API (basic auth, or bearer tokens like ghcr.io).

    Args:
        address: ``host:port`` (``127.0.0.1:5000``, ``ghcr.io``).
        username: User name (None for anonymous).
        password: Password or token.
        timeout: Seconds per request.
    """

    def __init__(
        self, address: str, username: str | None = None, password: str | None = None, timeout: float = 15
    ) -> None:
        self.address = address
        local = address.split(":")[0] in ("127.0.0.1", "localhost") or address.startswith("172.")
        self.base = f"{'http' if local else 'https'}://{address}"
        self._auth = (username, password) if username else None
        self._token: str | None = None
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RegistryClient({self.address!r}, user={self._auth[0] if self._auth else None!r})"

    def request(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kw: Any) -> Any:
        """Send one request, answering a bearer challenge once; map failures to course errors."""
        import requests

        headers = dict(kw.pop("headers", {}))
        url = path if path.startswith("http") else self.base + path
        try:
            for _ in range(2):
                if self._token:
                    headers["Authorization"] = f"Bearer {self._token}"
                    auth = None
                else:
                    auth = self._auth
                r = requests.request(method, url, headers=headers, auth=auth, timeout=self.timeout, **kw)
                challenge = r.headers.get("WWW-Authenticate", "")
                if r.status_code == 401 and challenge.lower().startswith("bearer") and not self._token:
                    self._token = self._fetch_token(challenge)
                    continue
                break
        except requests.RequestException as e:
            raise RegistryError(
                f"The registry {self.address} cannot be reached ({type(e).__name__}).",
                "Check the address and that it runs: `python -m helpers env status`.",
            ) from e
        if r.status_code == 401:
            raise RegistryAuthError(self.address)
        if r.status_code not in ok:
            raise RegistryError(
                f"The registry {self.address} answered HTTP {r.status_code} to {method} {path}: {r.text[:200].strip()}",
                "Check the repository name and tag.",
            )
        return r

    def _fetch_token(self, challenge: str) -> str:
        import requests

        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", "")
        r = requests.get(realm, params=params, auth=self._auth, timeout=self.timeout)
        if r.status_code in (401, 403):
            raise RegistryAuthError(self.address)
        r.raise_for_status()
        data = r.json()
        return str(data.get("token") or data.get("access_token"))

    def ping(self) -> bool:
        """True when the API answers and accepts the credentials."""
        self.request("GET", "/v2/")
        return True

    def catalog(self) -> list[str]:
        """Repository names (``GET /v2/_catalog``)."""
        return list(self.request("GET", "/v2/_catalog?n=1000").json().get("repositories") or [])

    def tags(self, repository: str) -> list[str]:
        """Tags of a repository ([] when it does not exist)."""
        r = self.request("GET", f"/v2/{repository}/tags/list", ok=(200, 404))
        return [] if r.status_code == 404 else sorted(r.json().get("tags") or [])

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest a tag (or digest) resolves to now, from the ``Docker-Content-Digest`` header; None if absent."""
        r = self.request(
            "HEAD",
            f"/v2/{repository}/manifests/{reference}",
            ok=(200, 404),
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        if r.status_code == 404:
            return None
        return r.headers.get("Docker-Content-Digest")

    def get_manifest(self, repository: str, reference: str) -> tuple[dict[str, Any], str, str]:
        """(manifest JSON, media type, digest computed from the bytes)."""
        r = self.request(
            "GET", f"/v2/{repository}/manifests/{reference}", headers={"Accept": ", ".join(MANIFEST_TYPES)}
        )
        return r.json(), r.headers.get("Content-Type", ""), "sha256:" + hashlib.sha256(r.content).hexdigest()

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        """Upload a manifest under a tag; returns its digest."""
        self.request(
            "PUT", f"/v2/{repository}/manifests/{reference}", ok=(201,), data=body, headers={"Content-Type": media_type}
        )
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def delete_manifest(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest (every tag pointing at it goes too; needs delete enabled)."""
        self.request("DELETE", f"/v2/{repository}/manifests/{digest}", ok=(202, 404))

    def get_blob(self, repository: str, digest: str) -> bytes:
        return bytes(self.request("GET", f"/v2/{repository}/blobs/{digest}").content)

    def upload_blob(self, repository: str, data: bytes) -> str:
        """Upload a blob (monolithic POST then PUT); returns its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if self.request("HEAD", f"/v2/{repository}/blobs/{digest}", ok=(200, 404)).status_code == 200:
            return digest
        loc = self.request("POST", f"/v2/{repository}/blobs/uploads/", ok=(202,)).headers["Location"]
        if not loc.startswith("http"):
            loc = self.base + loc
        sep = "&" if "?" in loc else "?"
        self.request(
            "PUT",
            f"{loc}{sep}digest={digest}",
            ok=(201,),
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        return digest


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
    from docker.errors import ImageNotFound as _NF

    engine = get_client(client)
    api = RegistryClient(address, username, password)
    api.ping()  # unreachable registry or wrong password: fail before anything is pushed
    try:
        img = engine.images.get(image)
    except _NF as e:
        raise ImageNotFound(image) from e
    immutable = bool(_VERSION_TAG.match(tag)) if immutable is None else immutable
    target = f"{address}/{repository}"
    if immutable:
        current = api.manifest_digest(repository, tag)
        if current:
            local = _local_digest(img, target)
            if local != current:
                raise RegistryError(
                    f"{target}:{tag} already exists and points at {current[:19]}...; version tags do not move.",
                    "Publish the new content under a new version (e.g. bump the patch number).",
                )
    had_local_tag = f"{target}:{tag}" in (img.tags or [])
    img.tag(target, tag)
    try:
        digest = _push_stream(engine, address, target, tag, username, password)
        served = api.manifest_digest(repository, tag)
        if not digest or served != digest:
            raise RegistryError(
                f"After the push, {target}:{tag} resolves to {served}, not to the pushed {digest}.",
                "Someone else pushed the same tag at the same time; push again and pin by digest.",
            )
    except Exception:
        # Leave no local tag that looks like a published image; only untag (never delete an image whose
        # only name would be this tag).
        if not had_local_tag and img.tags:
            try:
                engine.images.remove(f"{target}:{tag}", noprune=True)
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
        raise
    return PushResult(f"{target}:{tag}", repository, tag, digest)


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
