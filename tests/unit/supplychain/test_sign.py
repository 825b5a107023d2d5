"""Signing in cosign's format, against an in-memory registry."""

import hashlib
import json

import pytest

import helpers.supplychain.sign as sign
from helpers.errors import SignatureError
from helpers.supplychain.keys import generate_keypair
from helpers.supplychain.sign import sign_image, signature_tag, simple_signing_payload, verify_image


class FakeRegistry:
    """Just enough of RegistryClient: manifests by tag/digest, blobs."""

    store: dict = {}

    def __init__(self, address, username=None, password=None):
        self.address = address

    def manifest_digest(self, repo, ref):
        return self.store.get(("tag", repo, ref))

    def get_manifest(self, repo, ref):
        digest = self.store[("tag", repo, ref)]
        body = self.store[("blob", repo, digest)]
        return json.loads(body), "application/vnd.oci.image.manifest.v1+json", digest

    def put_manifest(self, repo, ref, body, media_type):
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.store[("blob", repo, digest)] = body
        self.store[("tag", repo, ref)] = digest
        return digest

    def upload_blob(self, repo, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.store[("blob", repo, digest)] = data
        return digest

    def get_blob(self, repo, digest):
        return self.store[("blob", repo, digest)]


@pytest.fixture
def reg(monkeypatch):
    FakeRegistry.store = {}
    monkeypatch.setattr(sign, "RegistryClient", FakeRegistry)
    r = FakeRegistry("reg:5000")
    r.put_manifest("app", "1.0.0", b'{"image": "one"}', "x")
    return r


def test_payload_is_cosigns_simple_signing_format():
    """Is the payload byte for byte what cosign signs (compact JSON, optional null)?"""
    p = simple_signing_payload("reg:5000/app", "sha256:" + "a" * 64)
    assert p == (
        b'{"critical":{"identity":{"docker-reference":"reg:5000/app"},"image":{"docker-manifest-digest":"sha256:'
        + b"a" * 64
        + b'"},"type":"cosign container image signature"},"optional":null}'
    )
    assert signature_tag("sha256:abc") == "sha256-abc.sig"


def test_sign_then_verify(reg):
    """Does a signed tag verify, and is the signature stored under sha256-<digest>.sig with the annotation?"""
    kp = generate_keypair()
    digest = sign_image("reg:5000", "app", "1.0.0", kp.private_pem)
    manifest, _, _ = reg.get_manifest("app", signature_tag(digest))
    layer = manifest["layers"][0]
    assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    assert sign.SIG_ANNOTATION in layer["annotations"]
    assert verify_image("reg:5000", "app", "1.0.0", kp.public_pem).digest == digest


def test_verify_fails_unsigned_wrong_key_and_repointed(reg):
    """Does verification fail for an unsigned image, another key, and a tag moved to other content?"""
    kp, other = generate_keypair(), generate_keypair()
    with pytest.raises(SignatureError, match="no signature"):
        verify_image("reg:5000", "app", "1.0.0", kp.public_pem)
    sign_image("reg:5000", "app", "1.0.0", kp.private_pem)
    with pytest.raises(SignatureError, match="not made by this key"):
        verify_image("reg:5000", "app", "1.0.0", other.public_pem)
    old = reg.manifest_digest("app", "1.0.0")
    reg.put_manifest("app", "1.0.0", b'{"image": "two"}', "x")  # the tag moves
    with pytest.raises(SignatureError, match="no signature"):
        verify_image("reg:5000", "app", "1.0.0", kp.public_pem)
    # copying the old signature next to the new digest does not help either
    new = reg.manifest_digest("app", "1.0.0")
    reg.store[("tag", "app", signature_tag(new))] = reg.store[("tag", "app", signature_tag(old))]
    with pytest.raises(SignatureError, match="other content"):
        verify_image("reg:5000", "app", "1.0.0", kp.public_pem)
    assert verify_image("reg:5000", "app", old, kp.public_pem).digest == old  # the signed digest still verifies
