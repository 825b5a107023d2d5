"""Sigstore bundles (v0.3), as ``cosign sign`` 3.x writes them for a container image with a key.

What cosign 3 signs for an image (cosign ``cmd/cosign/cli/sign/sign.go``, ``signDigestBundle``, v3.0 to v3.1.2)
is an in-toto Statement v1 whose one subject is the image's manifest digest, with the predicate type
``https://sigstore.dev/cosign/sign/v1`` and an empty predicate. The statement is wrapped in a DSSE envelope
(payload type ``application/vnd.in-toto+json``); the signature is over DSSE's pre-authentication encoding
(``DSSEv1 <len> <type> <len> <payload>``), ECDSA P-256 / SHA-256 like every key of this kit. The bundle
(``application/vnd.dev.sigstore.bundle.v0.3+json``, sigstore/protobuf-specs ``sigstore_bundle.proto``,
v0.3.0 and later) carries that envelope and the verification material: for a key, only a *hint*
(base64 of the SHA-256 of the public key's DER), because the key itself travels out of band.

Offline, the kit writes no transparency-log entry (``tlogEntries``) and no signed timestamp: a bundle made
here proves who signed, not when, and ``cosign verify`` needs ``--insecure-ignore-tlog=true`` to accept it.

A ``messageSignature`` bundle (what ``cosign sign-blob`` writes for a file: ``messageDigest`` plus
``signature``) is recognised and refused with a clear reason: it signs a blob, not an image.

Everything here is pure (bytes in, bytes or facts out); storing a bundle in a registry is
:mod:`helpers.supplychain.referrers`' job.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from helpers.errors import SignatureError
from helpers.supplychain.keys import load_private_key, load_public_key

__all__ = [
    "BUNDLE_TYPE",
    "INTOTO_TYPE",
    "STATEMENT_TYPE",
    "COSIGN_SIGN_PREDICATE",
    "BundleFacts",
    "key_hint",
    "signing_statement",
    "pae",
    "make_bundle",
    "verify_bundle",
]

BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
INTOTO_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"

KeyLike = bytes | str | os.PathLike[str]


def key_hint(public_key: KeyLike) -> str:
    """The public-key hint sigstore-go and cosign write: base64(sha256(DER SubjectPublicKeyInfo))."""
    from cryptography.hazmat.primitives import serialization

    der = load_public_key(public_key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def signing_statement(digest: str) -> bytes:
    """The in-toto statement ``cosign sign`` 3.x signs for ``digest`` (``sha256:<hex>``), as compact JSON."""
    algorithm, _, hexdigest = digest.partition(":")
    doc = {
        "_type": STATEMENT_TYPE,
        "subject": [{"digest": {algorithm: hexdigest}}],
        "predicateType": COSIGN_SIGN_PREDICATE,
        "predicate": {},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: the exact bytes a DSSE signature covers."""
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


def make_bundle(digest: str, private_key: KeyLike) -> bytes:
    """A v0.3 bundle signing image ``digest`` with ``private_key`` (DSSE envelope, public-key hint, no tlog)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = load_private_key(private_key)
    payload = signing_statement(digest)
    sig = key.sign(pae(INTOTO_TYPE, payload), ec.ECDSA(hashes.SHA256()))
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    doc = {
        "mediaType": BUNDLE_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key_hint(public_pem)}},
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": INTOTO_TYPE,
            "signatures": [{"sig": base64.b64encode(sig).decode()}],
        },
    }
    return json.dumps(doc, separators=(",", ":")).encode()


@dataclass(frozen=True)
class BundleFacts:
    """What a bundle that verified says: the digest it covers and how it was made."""

    digest: str
    predicate_type: str
    key_hint: str
    tlog_entries: int


def _refuse(why: str) -> SignatureError:
    return SignatureError(why, "Do not deploy it. Check the public key and that you verify the signed digest.")


def _envelope(doc: dict[str, Any]) -> dict[str, Any]:
    """The DSSE envelope of a parsed bundle, or a SignatureError saying what the bundle is instead."""
    if doc.get("mediaType") != BUNDLE_TYPE:
        raise _refuse(f"not a v0.3 Sigstore bundle (mediaType {str(doc.get('mediaType'))[:60]!r}).")
    if "messageSignature" in doc:
        raise _refuse("a messageSignature bundle signs a file (cosign sign-blob), not an image")
    env = doc.get("dsseEnvelope")
    if not isinstance(env, dict) or env.get("payloadType") != INTOTO_TYPE:
        raise _refuse("the bundle has no in-toto DSSE envelope")
    return env


def verify_bundle(bundle: bytes, digest: str, public_key: KeyLike | Any) -> BundleFacts:
    """Check that ``bundle`` is a signature by ``public_key`` (PEM, path, or loaded key) over image ``digest``.

    The signature is checked first (over the envelope's exact bytes), then what the signed statement
    says: its predicate type and its subject digest. The key hint is not trusted (the spec calls it
    unauthenticated): a wrong key fails on the signature itself.

    Raises:
        SignatureError: Not a bundle, a signature by another key, or a statement about other content.
    """
    try:
        doc = json.loads(bundle)
        env = _envelope(doc)
        payload = base64.b64decode(env["payload"], validate=True)
        sigs = [base64.b64decode(s["sig"], validate=True) for s in env.get("signatures", [])]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise _refuse(f"the bundle does not parse ({type(e).__name__})") from e
    pub = public_key if hasattr(public_key, "verify") else load_public_key(public_key)
    if not any(_verifies(pub, s, pae(INTOTO_TYPE, payload)) for s in sigs):
        raise _refuse("signature not made by this key (or its bytes were changed)")
    statement = json.loads(payload)
    if statement.get("predicateType") != COSIGN_SIGN_PREDICATE:
        raise _refuse(f"the statement is not a cosign signature ({str(statement.get('predicateType'))[:60]})")
    algorithm, _, hexdigest = digest.partition(":")
    signed = [s.get("digest", {}).get(algorithm) for s in statement.get("subject", [])]
    if hexdigest not in signed:
        raise _refuse(f"signature covers other content ({algorithm}:{str(signed[0] if signed else None)[:12]}...)")
    material = doc.get("verificationMaterial", {})
    return BundleFacts(
        digest,
        statement["predicateType"],
        str(material.get("publicKey", {}).get("hint", "")),
        len(material.get("tlogEntries", [])),
    )


def _verifies(pub: Any, sig: bytes, data: bytes) -> bool:
    """Whether ``sig`` is an ECDSA P-256 / SHA-256 signature by ``pub`` over ``data``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        pub.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False
