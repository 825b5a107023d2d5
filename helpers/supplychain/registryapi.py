"""The registry HTTP API (``/v2/...``, the OCI distribution spec): one small client for it.

This is what ``docker push`` and ``docker pull`` speak. Reading it directly shows what a
registry really holds: repositories, tags, and the manifest digest a tag points at right now.
Publishing (:mod:`helpers.supplychain.publish`), signing, tags and archive pushes all talk to
registries through :class:`RegistryClient`, so authentication and error mapping live here only.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from helpers.errors import RegistryAuthError, RegistryError

__all__ = ["RegistryClient", "MANIFEST_TYPES"]

MANIFEST_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
]


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
        """Get a bearer token from the realm a ``WWW-Authenticate: Bearer`` challenge names."""
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
        """The bytes of a blob (config, layer or signature payload)."""
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
