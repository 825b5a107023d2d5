"""cosign's legacy storage format: a "simple signing" payload under the tag ``sha256-<digest>.sig``.

The default of cosign 1.x and 2.x (cosign 3.x writes it with ``--new-bundle-format=false``, and its
``cosign verify`` still reads it when an image has no bundle). The payload names the image's manifest digest
(``critical.image.docker-manifest-digest``) and repository; it is signed with ECDSA P-256 / SHA-256 and
stored as a one-layer OCI artifact under the tag, with the base64 signature in the layer annotation
``dev.cosignproject.cosign/signature`` (cosign ``specs/SIGNATURE_SPEC.md``). ``cosign verify --key`` checks
exactly this. :mod:`helpers.supplychain.sign` chooses between this and the bundle format.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

from helpers.supplychain.digests import OCI_CONFIG, OCI_MANIFEST
from helpers.supplychain.keys import load_private_key
from helpers.supplychain.registryapi import RegistryClient

__all__ = [
    "SIG_ANNOTATION",
    "SIMPLESIGNING_TYPE",
    "signature_tag",
    "simple_signing_payload",
    "sign_sig_tag",
    "verify_sig_tag",
]

SIG_ANNOTATION = "dev.cosignproject.cosign/signature"
SIMPLESIGNING_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"


def signature_tag(digest: str) -> str:
    """``sha256:abc...`` -> ``sha256-abc....sig`` (where cosign stores the signatures of a digest)."""
    return digest.replace(":", "-") + ".sig"


def simple_signing_payload(docker_reference: str, digest: str) -> bytes:
    """The payload cosign signs, byte for byte as cosign writes it."""
    doc = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": None,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def sign_sig_tag(
    api: RegistryClient, address: str, repository: str, digest: str, private_key: bytes | str | os.PathLike[str]
) -> None:
    """Sign ``digest`` with a PEM key and store the signature under the ``.sig`` tag, as cosign 2.x does."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = load_private_key(private_key)
    payload = simple_signing_payload(f"{address}/{repository}", digest)
    sig = base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    payload_digest = api.upload_blob(repository, payload)
    config = _signature_config(payload_digest)
    config_digest = api.upload_blob(repository, config)
    layer = {
        "mediaType": SIMPLESIGNING_TYPE,
        "size": len(payload),
        "digest": payload_digest,
        "annotations": {SIG_ANNOTATION: sig},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "size": len(config), "digest": config_digest},
        "layers": _earlier_signatures(api, repository, digest, payload_digest) + [layer],
    }
    api.put_manifest(
        repository, signature_tag(digest), json.dumps(manifest, separators=(",", ":")).encode(), OCI_MANIFEST
    )


def _signature_config(payload_digest: str) -> bytes:
    """The (empty) image config of a signature artifact, byte for byte as cosign writes it."""
    return json.dumps(
        {
            "architecture": "",
            "config": {},
            "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": [payload_digest]},
        },
        separators=(",", ":"),
    ).encode()


def _earlier_signatures(api: RegistryClient, repository: str, digest: str, payload_digest: str) -> list[Any]:
    """The signature layers already stored for ``digest`` (kept, as cosign does), minus this payload's."""
    if not api.manifest_digest(repository, signature_tag(digest)):
        return []
    old, _, _ = api.get_manifest(repository, signature_tag(digest))
    return [ly for ly in old.get("layers", []) if ly.get("digest") != payload_digest]


def verify_sig_tag(api: RegistryClient, repository: str, digest: str, where: str, pub: Any, reasons: list[str]) -> int:
    """How many ``.sig`` layers were checked when one is valid for ``digest`` by ``pub`` (0: none; reasons appended)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    manifest, _, _ = api.get_manifest(repository, signature_tag(digest))
    layers = [ly for ly in manifest.get("layers", []) if ly.get("mediaType") == SIMPLESIGNING_TYPE]
    for ly in layers:
        payload = api.get_blob(repository, ly["digest"])
        if "sha256:" + hashlib.sha256(payload).hexdigest() != ly["digest"]:
            reasons.append("payload does not match its digest")
            continue
        try:
            pub.verify(
                base64.b64decode(ly.get("annotations", {}).get(SIG_ANNOTATION, "")), payload, ec.ECDSA(hashes.SHA256())
            )
        except (InvalidSignature, ValueError):
            reasons.append("signature not made by this key (or its bytes were changed)")
            continue
        critical = json.loads(payload).get("critical", {})
        signed = critical.get("image", {}).get("docker-manifest-digest")
        if signed != digest:
            reasons.append(f"signature covers other content ({str(signed)[:19]}...)")
            continue
        if critical.get("identity", {}).get("docker-reference") != where:
            reasons.append("signature names another repository")
            continue
        return len(layers)
    return 0
