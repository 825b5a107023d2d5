"""Sign images in a registry and verify them, in cosign's format.

With cosign installed (and a cosign key), cosign does the work. Otherwise the kit signs
itself, in the format cosign documents for key-based signatures: a "simple signing" JSON
payload naming the image's manifest digest (``critical.image.docker-manifest-digest``),
signed with ECDSA P-256 / SHA-256, stored as a one-layer OCI artifact under the tag
``sha256-<digest>.sig`` with the base64 signature in the layer annotation
``dev.cosignproject.cosign/signature``. ``cosign verify --key cosign.pub`` checks exactly this.
Keys (PEM pairs, cosign key files) are read in :mod:`helpers.supplychain.keys`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

from helpers.engine.tools import find_tool
from helpers.errors import ImageNotFound, SignatureError
from helpers.supplychain.digests import OCI_CONFIG, OCI_MANIFEST
from helpers.supplychain.keys import is_cosign_key, load_private_key, load_public_key
from helpers.supplychain.registryapi import RegistryClient

__all__ = [
    "signature_tag",
    "simple_signing_payload",
    "sign_image",
    "verify_image",
    "cosign_verify",
    "Verification",
    "SIG_ANNOTATION",
    "SIMPLESIGNING_TYPE",
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


def _resolve(api: RegistryClient, repository: str, reference: str) -> str:
    """The manifest digest ``reference`` (a tag, or already a digest) resolves to now."""
    if reference.startswith("sha256:"):
        return reference
    digest = api.manifest_digest(repository, reference)
    if not digest:
        raise ImageNotFound(f"{api.address}/{repository}:{reference}", "Push it first (helpers.push).")
    return digest


def sign_image(
    address: str,
    repository: str,
    reference: str,
    private_key: bytes | str | os.PathLike[str],
    username: str | None = None,
    password: str | None = None,
) -> str:
    """Sign the manifest that ``reference`` (tag or digest) resolves to now; returns the signed digest.

    The signature names the digest, not the tag: if the tag moves later, it no longer verifies.
    A cosign key file (from ``cosign generate-key-pair``, password in ``COSIGN_PASSWORD``) is
    handed to cosign when cosign is installed; a PEM key is used by the kit itself.

    Raises:
        ImageNotFound: The reference does not exist in the registry.
        SignatureError: The key cannot be used, or cosign failed.
    """
    api = RegistryClient(address, username, password)
    digest = _resolve(api, repository, reference)
    if is_cosign_key(private_key):
        _cosign_sign(private_key, f"{address}/{repository}@{digest}")
    else:
        _kit_sign(api, address, repository, digest, private_key)
    return digest


def _cosign_sign(private_key: bytes | str | os.PathLike[str], image_ref: str) -> None:
    """Sign ``image_ref`` (pinned by digest) with ``cosign sign --key``, without the transparency log."""
    tool = find_tool("cosign")
    if tool is None:
        raise SignatureError(
            "This is a cosign key file and cosign is not installed.",
            "Install cosign, or use a key from helpers.generate_keypair().",
        )
    cmd = [tool.path, "sign", "--yes", "--key", str(private_key), "--tlog-upload=false", "--allow-insecure-registry"]
    proc = subprocess.run([*cmd, image_ref], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise SignatureError(
            f"cosign sign failed: {proc.stderr.strip()[-300:]}", "Check COSIGN_PASSWORD and the login."
        )


def _kit_sign(
    api: RegistryClient, address: str, repository: str, digest: str, private_key: bytes | str | os.PathLike[str]
) -> None:
    """Sign ``digest`` with a PEM key and store the signature where and how cosign does."""
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


@dataclass
class Verification:
    """A signature that verified: the digest it covers and the identity it names."""

    digest: str
    docker_reference: str
    signatures_checked: int


def verify_image(
    address: str,
    repository: str,
    reference: str,
    public_key: bytes | str | os.PathLike[str],
    username: str | None = None,
    password: str | None = None,
) -> Verification:
    """Verify that what ``reference`` resolves to now carries a valid signature by ``public_key``.

    Raises:
        SignatureError: No signature, a signature by another key, or one for other content.
        ImageNotFound: The reference does not exist in the registry.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    pub = load_public_key(public_key)
    api = RegistryClient(address, username, password)
    digest = _resolve(api, repository, reference)
    where = f"{address}/{repository}"
    if not api.manifest_digest(repository, signature_tag(digest)):
        raise SignatureError(
            f"{where}:{reference} ({digest[:19]}...) has no signature.",
            "Do not deploy it; if the tag moved since it was signed, deploy the signed digest.",
        )
    manifest, _, _ = api.get_manifest(repository, signature_tag(digest))
    reasons = []
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
            reasons.append("signature not made by this key")
            continue
        critical = json.loads(payload).get("critical", {})
        signed = critical.get("image", {}).get("docker-manifest-digest")
        if signed != digest:
            reasons.append(f"signature covers other content ({str(signed)[:19]}...)")
            continue
        if critical.get("identity", {}).get("docker-reference") != where:
            reasons.append("signature names another repository")
            continue
        return Verification(digest, where, len(layers))
    raise SignatureError(
        f"No valid signature for {where}:{reference}: " + "; ".join(dict.fromkeys(reasons or ["none found"])) + ".",
        "Do not deploy it. Check that you use the right public key and the signed digest.",
    )


def cosign_verify(image_ref: str, public_key_path: str | os.PathLike[str]) -> bool | None:
    """Cross-check with ``cosign verify --key`` when cosign is installed (None when it is not)."""

    tool = find_tool("cosign")
    if tool is None:
        return None
    exe = tool.path
    proc = subprocess.run(
        [
            exe,
            "verify",
            "--key",
            str(public_key_path),
            "--insecure-ignore-tlog=true",
            "--allow-insecure-registry",
            image_ref,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode == 0
