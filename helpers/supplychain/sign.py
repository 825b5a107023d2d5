"""Sign images in a registry and verify them, in both of cosign's storage formats.

- **Bundle as referrer** (the default of cosign 3.x, and of this module): a Sigstore bundle v0.3 (see
  :mod:`helpers.supplychain.bundle`) pushed as an OCI 1.1 artifact whose ``subject`` is the signed manifest
  (see :mod:`helpers.supplychain.referrers`).
- **The ``.sig`` tag** (cosign 1.x and 2.x; cosign 3 with ``--new-bundle-format=false``), ``legacy=True``:
  a "simple signing" JSON payload naming the manifest digest (``critical.image.docker-manifest-digest``),
  signed with ECDSA P-256 / SHA-256, stored as a one-layer OCI artifact under the tag ``sha256-<digest>.sig``
  with the base64 signature in the layer annotation ``dev.cosignproject.cosign/signature``.

With a cosign key file (and cosign installed) cosign does the work; with a PEM key the kit signs itself.
:func:`verify_image` reads both formats, bundles first, as ``cosign verify`` 3.x does.
Keys (PEM pairs, cosign key files) are read in :mod:`helpers.supplychain.keys`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

from helpers.engine.tools import find_tool
from helpers.errors import ImageNotFound, SignatureError
from helpers.supplychain.bundle import BUNDLE_TYPE, COSIGN_SIGN_PREDICATE, make_bundle, verify_bundle
from helpers.supplychain.keys import is_cosign_key, load_public_key
from helpers.supplychain.referrers import OCI_EMPTY, list_referrers, push_referrer, subject_descriptor
from helpers.supplychain.registryapi import RegistryClient
from helpers.supplychain.sigtag import (
    SIG_ANNOTATION,
    SIMPLESIGNING_TYPE,
    sign_sig_tag,
    signature_tag,
    simple_signing_payload,
    verify_sig_tag,
)

__all__ = [
    "signature_tag",
    "simple_signing_payload",
    "sign_image",
    "verify_image",
    "cosign_verify",
    "cosign_sign_command",
    "copy_signatures",
    "Verification",
    "BUNDLE_ANNOTATIONS",
    "SIG_ANNOTATION",
    "SIMPLESIGNING_TYPE",
]


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
    legacy: bool = False,
) -> str:
    """Sign the manifest that ``reference`` (tag or digest) resolves to now; returns the signed digest.

    The signature names the digest, not the tag: if the tag moves later, it no longer verifies.
    A cosign key file (from ``cosign generate-key-pair``, password in ``COSIGN_PASSWORD``) is
    handed to cosign when cosign is installed; a PEM key is used by the kit itself.

    Args:
        legacy: Store a ``sha256-<digest>.sig`` tag (cosign 2.x) instead of a bundle attached as a referrer.

    Raises:
        ImageNotFound: The reference does not exist in the registry.
        SignatureError: The key cannot be used, or cosign failed.
    """
    api = RegistryClient(address, username, password)
    digest = _resolve(api, repository, reference)
    if is_cosign_key(private_key):
        _cosign_sign(private_key, f"{address}/{repository}@{digest}", legacy)
    elif legacy:
        sign_sig_tag(api, address, repository, digest, private_key)
    else:
        subject = subject_descriptor(api, repository, digest)
        bundle = make_bundle(digest, private_key)
        push_referrer(api, repository, subject, BUNDLE_TYPE, bundle, BUNDLE_ANNOTATIONS)
    return digest


#: The annotations cosign 3.x puts on a bundle's referrer manifest (besides its creation time).
BUNDLE_ANNOTATIONS = {
    "dev.sigstore.bundle.content": "dsse-envelope",
    "dev.sigstore.bundle.predicateType": COSIGN_SIGN_PREDICATE,
}


def cosign_sign_command(key_path: str, image_ref: str, legacy: bool = False) -> list[str]:
    """The ``cosign sign`` 3.x arguments for an offline key signature (no transparency log), in either format.

    cosign 3 refuses ``--tlog-upload=false`` while it uses the TUF signing config, hence
    ``--use-signing-config=false``; ``--new-bundle-format=false`` selects the ``.sig`` tag.
    """
    cmd = ["cosign", "sign", "--yes", "--key", key_path, "--use-signing-config=false", "--tlog-upload=false"]
    return cmd + (["--new-bundle-format=false"] if legacy else []) + [image_ref]


def _cosign_sign(private_key: bytes | str | os.PathLike[str], image_ref: str, legacy: bool) -> None:
    """Sign ``image_ref`` (pinned by digest) with ``cosign sign --key``, without the transparency log."""
    tool = find_tool("cosign")
    if tool is None or not isinstance(private_key, (str, os.PathLike)):
        raise SignatureError(
            "This is a cosign key file and cosign is not installed (or the key is not a file).",
            "Install cosign and pass the key's path, or use a key from helpers.generate_keypair().",
        )
    cmd = cosign_sign_command(str(private_key), image_ref, legacy)
    proc = subprocess.run([tool.path, *cmd[1:]], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise SignatureError(
            f"cosign sign failed: {proc.stderr.strip()[-300:]}", "Check COSIGN_PASSWORD and the login."
        )


@dataclass
class Verification:
    """A signature that verified: the digest it covers, the identity it names, and where it was stored.

    ``storage`` is ``"bundle (referrers API)"``, ``"bundle (referrers tag)"`` or ``"sig tag"``. A bundle
    names no repository (``docker_reference`` is then where it was found); a ``.sig`` payload does.
    """

    digest: str
    docker_reference: str
    signatures_checked: int
    storage: str = "sig tag"


def verify_image(
    address: str,
    repository: str,
    reference: str,
    public_key: bytes | str | os.PathLike[str],
    username: str | None = None,
    password: str | None = None,
) -> Verification:
    """Verify that what ``reference`` resolves to now carries a valid signature by ``public_key``.

    Bundles attached as referrers are checked first, then the ``sha256-<digest>.sig`` tag; one valid
    signature in either is enough.

    Raises:
        SignatureError: No signature, a signature by another key, or one for other content.
        ImageNotFound: The reference does not exist in the registry.
    """
    pub = load_public_key(public_key)
    api = RegistryClient(address, username, password)
    digest = _resolve(api, repository, reference)
    where = f"{address}/{repository}"
    bundles, source = _bundle_candidates(api, repository, digest)
    has_sig_tag = bool(api.manifest_digest(repository, signature_tag(digest)))
    if not bundles and not has_sig_tag:
        raise SignatureError(
            f"{where}:{reference} ({digest[:19]}...) has no signature.",
            "Do not deploy it; if the tag moved since it was signed, deploy the signed digest.",
        )
    bundle_reasons: list[str] = []
    for desc in bundles:
        if _bundle_verifies(api, repository, desc, digest, pub, bundle_reasons):
            return Verification(digest, where, len(bundles), f"bundle ({source})")
    tag_reasons: list[str] = []
    if has_sig_tag and (checked := verify_sig_tag(api, repository, digest, where, pub, tag_reasons)):
        return Verification(digest, where, checked, "sig tag")
    reasons = [f"bundle: {r}" for r in dict.fromkeys(bundle_reasons)]
    reasons += [f".sig tag: {r}" for r in dict.fromkeys(tag_reasons)]
    raise SignatureError(
        f"No valid signature for {where}:{reference}: " + "; ".join(reasons or ["none found"]) + ".",
        "Do not deploy it. Check that you use the right public key and the signed digest.",
    )


def _bundle_candidates(api: RegistryClient, repository: str, digest: str) -> tuple[list[dict[str, Any]], str]:
    """Referrers that may hold a bundle: the bundle's artifactType, or none at all in the index.

    Fallback indexes written by cosign 3.x through go-containerregistry have carried descriptors with an
    empty (or the empty-config) artifactType (kyverno/kyverno#16754, 2026-07): those are opened and checked too.
    """
    found, source = list_referrers(api, repository, digest)
    return [m for m in found if m.get("artifactType") in (BUNDLE_TYPE, "", None, OCI_EMPTY)], source


def _bundle_verifies(
    api: RegistryClient, repository: str, desc: dict[str, Any], digest: str, pub: Any, reasons: list[str]
) -> bool:
    """Whether the referrer ``desc`` holds a bundle by ``pub`` over ``digest`` (else a reason is appended)."""
    manifest, _, manifest_digest = api.get_manifest(repository, desc["digest"])
    if manifest_digest != desc["digest"]:
        reasons.append("referrer manifest does not match its digest")
        return False
    if manifest.get("subject", {}).get("digest") != digest:
        reasons.append("referrer names another image as its subject")
        return False
    layers = [ly for ly in manifest.get("layers", []) if ly.get("mediaType") == BUNDLE_TYPE]
    for ly in layers:  # none: another kind of artifact (an SBOM, an attestation), not a reason to reject
        blob = api.get_blob(repository, ly["digest"])
        if "sha256:" + hashlib.sha256(blob).hexdigest() != ly["digest"]:
            reasons.append("bundle does not match its digest")
            continue
        try:
            verify_bundle(blob, digest, pub)
            return True
        except SignatureError as e:
            reasons.append(e.message.rstrip("."))
    return False


def copy_signatures(
    address: str,
    repository: str,
    from_digest: str,
    to_digest: str,
    username: str | None = None,
    password: str | None = None,
) -> list[str]:
    """Copy every signature of ``from_digest`` next to ``to_digest``, as anyone with push rights could.

    Used to show that this proves nothing: the copied ``.sig`` payload and the copied bundle still
    name ``from_digest``, so :func:`verify_image` rejects them for ``to_digest``. Returns what was copied.
    """
    api = RegistryClient(address, username, password)
    copied = []
    if api.manifest_digest(repository, signature_tag(from_digest)):
        manifest, media_type, _ = api.get_manifest(repository, signature_tag(from_digest))
        api.put_manifest(repository, signature_tag(to_digest), json.dumps(manifest).encode(), media_type)
        copied.append("sig tag")
    bundles, _ = list_referrers(api, repository, from_digest, BUNDLE_TYPE)
    subject = subject_descriptor(api, repository, to_digest) if bundles else {}
    for desc in bundles:
        manifest, _, _ = api.get_manifest(repository, desc["digest"])
        blob = api.get_blob(repository, manifest["layers"][0]["digest"])
        push_referrer(api, repository, subject, BUNDLE_TYPE, blob, BUNDLE_ANNOTATIONS)
        copied.append("bundle")
    return copied


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
