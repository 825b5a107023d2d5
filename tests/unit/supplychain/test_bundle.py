"""The Sigstore bundle v0.3 the kit writes for an image: its JSON shape, a round trip, and tamper detection."""

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization

from helpers.errors import SignatureError
from helpers.supplychain.bundle import (
    BUNDLE_TYPE,
    COSIGN_SIGN_PREDICATE,
    INTOTO_TYPE,
    key_hint,
    make_bundle,
    pae,
    signing_statement,
    verify_bundle,
)
from helpers.supplychain.keys import generate_keypair

DIGEST = "sha256:" + hashlib.sha256(b"a manifest").hexdigest()
OTHER = "sha256:" + hashlib.sha256(b"another manifest").hexdigest()


@pytest.fixture(scope="module")
def keys():
    return generate_keypair()


def _edit(bundle: bytes, change) -> bytes:
    doc = json.loads(bundle)
    change(doc)
    return json.dumps(doc).encode()


def test_bundle_has_the_v03_shape_cosign_writes(keys):
    """Is it a v0.3 bundle with a DSSE in-toto envelope, a key hint and no transparency-log entry?"""
    doc = json.loads(make_bundle(DIGEST, keys.private_pem))
    assert set(doc) == {"mediaType", "verificationMaterial", "dsseEnvelope"}
    assert doc["mediaType"] == BUNDLE_TYPE == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert doc["verificationMaterial"] == {"publicKey": {"hint": key_hint(keys.public_pem)}}  # offline: no tlog
    env = doc["dsseEnvelope"]
    assert env["payloadType"] == INTOTO_TYPE == "application/vnd.in-toto+json"
    assert [set(s) for s in env["signatures"]] == [{"sig"}]
    statement = json.loads(base64.b64decode(env["payload"]))
    assert statement == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"digest": {"sha256": DIGEST.split(":")[1]}}],
        "predicateType": COSIGN_SIGN_PREDICATE,
        "predicate": {},
    }
    assert base64.b64decode(env["payload"]) == signing_statement(DIGEST)


def test_key_hint_is_sha256_of_the_der_public_key(keys):
    """Is the hint base64(sha256(DER SubjectPublicKeyInfo)), as sigstore-go computes it?"""
    pub = serialization.load_pem_public_key(keys.public_pem)
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert key_hint(keys.public_pem) == base64.b64encode(hashlib.sha256(der).digest()).decode()
    assert key_hint(keys.public_pem) != key_hint(generate_keypair().public_pem)


def test_pae_is_dsse_v1():
    """Are the signed bytes DSSE's pre-authentication encoding (lengths in decimal, single spaces)?"""
    assert pae("application/vnd.in-toto+json", b"{}") == b"DSSEv1 28 application/vnd.in-toto+json 2 {}"


def test_round_trip(keys):
    """Does a bundle verify with the matching key, for the digest it was made for?"""
    facts = verify_bundle(make_bundle(DIGEST, keys.private_pem), DIGEST, keys.public_pem)
    assert (facts.digest, facts.predicate_type, facts.tlog_entries) == (DIGEST, COSIGN_SIGN_PREDICATE, 0)
    assert facts.key_hint == key_hint(keys.public_pem)


def test_wrong_key_is_rejected(keys):
    with pytest.raises(SignatureError, match="not made by this key"):
        verify_bundle(make_bundle(DIGEST, keys.private_pem), DIGEST, generate_keypair().public_pem)


def test_bundle_for_another_digest_is_rejected(keys):
    """Is a valid bundle for one image refused when presented for another?"""
    with pytest.raises(SignatureError, match="other content"):
        verify_bundle(make_bundle(DIGEST, keys.private_pem), OTHER, keys.public_pem)


def test_changed_digest_in_the_statement_is_rejected(keys):
    """Editing the subject digest inside the signed statement breaks the signature."""

    def swap(doc):
        env = doc["dsseEnvelope"]
        env["payload"] = base64.b64encode(signing_statement(OTHER)).decode()

    with pytest.raises(SignatureError, match="not made by this key"):
        verify_bundle(_edit(make_bundle(DIGEST, keys.private_pem), swap), OTHER, keys.public_pem)


def test_changed_signature_is_rejected(keys):
    def flip(doc):
        sig = bytearray(base64.b64decode(doc["dsseEnvelope"]["signatures"][0]["sig"]))
        sig[-1] ^= 1
        doc["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()

    with pytest.raises(SignatureError, match="not made by this key"):
        verify_bundle(_edit(make_bundle(DIGEST, keys.private_pem), flip), DIGEST, keys.public_pem)


def test_changed_hint_does_not_matter_but_a_borrowed_hint_does_not_help(keys):
    """The hint is unauthenticated: a wrong hint neither breaks a good bundle nor saves a bad one."""
    good = _edit(
        make_bundle(DIGEST, keys.private_pem), lambda d: d["verificationMaterial"]["publicKey"].update(hint="x")
    )
    assert verify_bundle(good, DIGEST, keys.public_pem).digest == DIGEST
    other = generate_keypair()
    bad = _edit(
        make_bundle(DIGEST, other.private_pem),
        lambda d: d["verificationMaterial"]["publicKey"].update(hint=key_hint(keys.public_pem)),
    )
    with pytest.raises(SignatureError, match="not made by this key"):
        verify_bundle(bad, DIGEST, keys.public_pem)


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda d: d.update(mediaType="application/vnd.dev.sigstore.bundle+json;version=0.1"), "not a v0.3"),
        (lambda d: d.update(messageSignature={"messageDigest": {}, "signature": ""}), "sign-blob"),
        (lambda d: d["dsseEnvelope"].update(payloadType="text/plain"), "no in-toto DSSE envelope"),
        (lambda d: d["dsseEnvelope"].update(payload="not base64!"), "does not parse"),
    ],
)
def test_other_documents_are_refused_with_a_reason(keys, change, reason):
    with pytest.raises(SignatureError, match=reason):
        verify_bundle(_edit(make_bundle(DIGEST, keys.private_pem), change), DIGEST, keys.public_pem)
