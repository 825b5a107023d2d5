"""OCI 1.1 referrers: artifacts that point at an image through their manifest's ``subject`` field.

How cosign 3 stores a Sigstore bundle (cosign ``specs/BUNDLE_SPEC.md`` and ``pkg/oci/remote/write.go``,
v3.0 to v3.1.2): the bundle is one blob; an OCI image manifest with ``artifactType`` set to the bundle's
media type, the empty config (``application/vnd.oci.empty.v1+json``, the two bytes ``{}``), the bundle as its
one layer and ``subject`` = the signed image's manifest descriptor is pushed *by digest* (no tag).

Finding it again (OCI distribution spec v1.1.0, "Listing Referrers" and "Referrers Tag Schema"):
``GET /v2/<name>/referrers/<digest>`` answers an image index of every manifest whose subject is that
digest. A registry without the API answers 404 and does not send ``OCI-Subject`` when a manifest with a
subject is pushed; the client then keeps that index itself, under the tag ``<alg>-<hex>``
(``sha256-abc...``, without cosign's old ``.sig`` suffix). CNCF distribution, up to v3.1 (2026), has no
referrers API, so the course registry (distribution 2.8) uses the tag; the code below handles both.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from helpers.supplychain.digests import OCI_MANIFEST
from helpers.supplychain.registryapi import MANIFEST_TYPES, RegistryClient

__all__ = [
    "OCI_INDEX",
    "OCI_EMPTY",
    "referrers_tag",
    "subject_descriptor",
    "push_referrer",
    "list_referrers",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"


def referrers_tag(digest: str) -> str:
    """``sha256:abc...`` -> ``sha256-abc...``: the referrers tag schema of the OCI distribution spec 1.1."""
    return digest.replace(":", "-")


def subject_descriptor(api: RegistryClient, repository: str, digest: str) -> dict[str, Any]:
    """The descriptor (media type, digest, size) of the manifest ``digest``, for a ``subject`` field."""
    r = api.request("GET", f"/v2/{repository}/manifests/{digest}", headers={"Accept": ", ".join(MANIFEST_TYPES)})
    media_type = r.headers.get("Content-Type", OCI_MANIFEST).split(";")[0]
    return {"mediaType": media_type, "digest": digest, "size": len(r.content)}


def push_referrer(
    api: RegistryClient,
    repository: str,
    subject: dict[str, Any],
    artifact_type: str,
    blob: bytes,
    annotations: dict[str, str] | None = None,
) -> str:
    """Push ``blob`` as a one-layer artifact whose subject is ``subject``; returns the artifact's manifest digest.

    When the registry does not confirm the subject (no ``OCI-Subject`` header), the artifact is also
    added to the index under the referrers tag, as the spec tells clients to do.
    """
    config_digest = api.upload_blob(repository, b"{}")
    layer = {"mediaType": artifact_type, "digest": api.upload_blob(repository, blob), "size": len(blob)}
    notes = {"org.opencontainers.image.created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    notes.update(annotations or {})
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": OCI_EMPTY, "digest": config_digest, "size": 2},
        "layers": [layer],
        "subject": subject,
        "annotations": notes,
    }
    body = json.dumps(manifest, separators=(",", ":")).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    r = api.request(
        "PUT", f"/v2/{repository}/manifests/{digest}", ok=(201,), data=body, headers={"Content-Type": OCI_MANIFEST}
    )
    if not r.headers.get("OCI-Subject"):
        entry = {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body), "artifactType": artifact_type}
        _add_to_fallback_index(api, repository, subject["digest"], {**entry, "annotations": notes})
    return digest


def _add_to_fallback_index(api: RegistryClient, repository: str, subject_digest: str, entry: dict[str, Any]) -> None:
    """Add ``entry`` to the index under the referrers tag of ``subject_digest`` (created when missing)."""
    tag = referrers_tag(subject_digest)
    index: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    if api.manifest_digest(repository, tag):
        index = api.get_manifest(repository, tag)[0]
    index["manifests"] = [m for m in index.get("manifests", []) if m.get("digest") != entry["digest"]] + [entry]
    api.put_manifest(repository, tag, json.dumps(index, separators=(",", ":")).encode(), OCI_INDEX)


def list_referrers(
    api: RegistryClient, repository: str, digest: str, artifact_type: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    """The descriptors of the artifacts that refer to ``digest``, and where they were found.

    Returns:
        (descriptors, source): ``source`` is ``"referrers API"``, ``"referrers tag"`` or ``"none"``.
    """
    query = f"?artifactType={artifact_type}" if artifact_type else ""
    r = api.request("GET", f"/v2/{repository}/referrers/{digest}{query}", ok=(200, 404))
    if r.status_code == 200:
        found, source = list(r.json().get("manifests") or []), "referrers API"
    elif api.manifest_digest(repository, referrers_tag(digest)):
        found, source = (
            list(api.get_manifest(repository, referrers_tag(digest))[0].get("manifests") or []),
            "referrers tag",
        )
    else:
        return [], "none"
    if artifact_type:  # a registry may ignore the filter (it says so in OCI-Filters-Applied); filter again
        found = [m for m in found if m.get("artifactType") == artifact_type]
    return found, source
