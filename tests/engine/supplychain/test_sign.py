"""Sign and verify against the real local registry."""

import json
import uuid

import pytest

from helpers.engine.baseimages import base_image
from helpers.engine.registry import ensure_registry
from helpers.errors import SignatureError
from helpers.images.build import build
from helpers.supplychain.keys import generate_keypair
from helpers.supplychain.publish import push
from helpers.supplychain.registryapi import RegistryClient
from helpers.supplychain.sign import sign_image, signature_tag, verify_image

pytestmark = pytest.mark.engine


def test_sign_verify_and_every_rejection(engine, tmp_path):
    """Does a signed version verify, and do unsigned, re-pointed, copied-signature and wrong-key cases fail?"""
    reg = ensure_registry(log=lambda s: None)
    A = (reg.username, reg.password)
    repo = f"course-test/sign-{uuid.uuid4().hex[:6]}"
    api = RegistryClient(reg.address, *A)
    one = build(tmp_path, dockerfile_text=f"FROM {base_image('debian')}\nLABEL one={repo}\n").image_id
    two = build(tmp_path, dockerfile_text=f"FROM {base_image('debian')}\nLABEL two={repo}\n").image_id
    kp, other = generate_keypair(), generate_keypair()
    try:
        push(one, reg.address, repo, "1.0.0", *A, client=engine)
        with pytest.raises(SignatureError, match="no signature"):
            verify_image(reg.address, repo, "1.0.0", kp.public_pem, *A)
        digest = sign_image(reg.address, repo, "1.0.0", kp.private_pem, *A)
        assert signature_tag(digest) in api.tags(repo)
        assert verify_image(reg.address, repo, "1.0.0", kp.public_pem, *A).digest == digest
        with pytest.raises(SignatureError, match="not made by this key"):
            verify_image(reg.address, repo, "1.0.0", other.public_pem, *A)
        push(two, reg.address, repo, "1.0.0", *A, immutable=False, client=engine)  # someone re-points the tag
        with pytest.raises(SignatureError, match="no signature"):
            verify_image(reg.address, repo, "1.0.0", kp.public_pem, *A)
        new = api.manifest_digest(repo, "1.0.0")
        m, mt, _ = api.get_manifest(repo, signature_tag(digest))
        api.put_manifest(repo, signature_tag(new), json.dumps(m).encode(), mt)
        with pytest.raises(SignatureError, match="other content"):
            verify_image(reg.address, repo, "1.0.0", kp.public_pem, *A)
        assert verify_image(reg.address, repo, digest, kp.public_pem, *A).digest == digest
    finally:
        for tag in api.tags(repo):
            d = api.manifest_digest(repo, tag)
            if d:
                api.delete_manifest(repo, d)
