"""Sign and verify against the real local registry (distribution 2.8), in both of cosign's storage formats."""

import json
import uuid

import pytest

from helpers.cli import main
from helpers.engine.baseimages import base_image
from helpers.engine.registry import ensure_registry
from helpers.errors import SignatureError
from helpers.images.build import build
from helpers.supplychain.bundle import BUNDLE_TYPE, verify_bundle
from helpers.supplychain.keys import generate_keypair
from helpers.supplychain.publish import push
from helpers.supplychain.referrers import OCI_INDEX, list_referrers, referrers_tag
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
        digest = sign_image(reg.address, repo, "1.0.0", kp.private_pem, *A, legacy=True)
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
        _clean(api, repo)


def _clean(api, repo):
    """Delete every manifest the test pushed: the referrer artifacts (untagged) first, then the tags."""
    for tag in api.tags(repo):
        if tag.startswith("sha256-") and not tag.endswith(".sig"):
            for m in api.get_manifest(repo, tag)[0].get("manifests", []):
                api.delete_manifest(repo, m["digest"])
    for tag in api.tags(repo):
        d = api.manifest_digest(repo, tag)
        if d:
            api.delete_manifest(repo, d)


def test_bundle_is_stored_as_a_referrer_and_verifies(engine, tmp_path):
    """Is the bundle an OCI 1.1 artifact with subject, listed under the referrers tag (no API here), verified,
    and rejected for another key, a re-pointed tag and a bundle re-aimed at the new digest?"""
    reg = ensure_registry(log=lambda s: None)
    A = (reg.username, reg.password)
    repo = f"course-test/bundle-{uuid.uuid4().hex[:6]}"
    api = RegistryClient(reg.address, *A)
    one = build(tmp_path, dockerfile_text=f"FROM {base_image('debian')}\nLABEL one={repo}\n").image_id
    two = build(tmp_path, dockerfile_text=f"FROM {base_image('debian')}\nLABEL two={repo}\n").image_id
    kp, other = generate_keypair(), generate_keypair()
    try:
        push(one, reg.address, repo, "1.0.0", *A, client=engine)
        digest = sign_image(reg.address, repo, "1.0.0", kp.private_pem, *A)
        # distribution 2.8 has no referrers API: 404, so the index lives under the referrers tag
        assert api.request("GET", f"/v2/{repo}/referrers/{digest}", ok=(200, 404)).status_code == 404
        assert referrers_tag(digest) in api.tags(repo) and signature_tag(digest) not in api.tags(repo)
        index, index_type, _ = api.get_manifest(repo, referrers_tag(digest))
        assert index_type == OCI_INDEX and [m["artifactType"] for m in index["manifests"]] == [BUNDLE_TYPE]
        found, source = list_referrers(api, repo, digest, BUNDLE_TYPE)
        assert source == "referrers tag" and len(found) == 1
        art, _, art_digest = api.get_manifest(repo, found[0]["digest"])
        assert art_digest == found[0]["digest"] and art["subject"]["digest"] == digest
        assert art["artifactType"] == BUNDLE_TYPE and art["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
        bundle = api.get_blob(repo, art["layers"][0]["digest"])
        assert verify_bundle(bundle, digest, kp.public_pem).tlog_entries == 0
        v = verify_image(reg.address, repo, "1.0.0", kp.public_pem, *A)
        assert (v.digest, v.storage) == (digest, "bundle (referrers tag)")
        with pytest.raises(SignatureError, match="not made by this key"):
            verify_image(reg.address, repo, "1.0.0", other.public_pem, *A)
        push(two, reg.address, repo, "1.0.0", *A, immutable=False, client=engine)  # someone re-points the tag
        with pytest.raises(SignatureError, match="no signature"):
            verify_image(reg.address, repo, "1.0.0", kp.public_pem, *A)
        new = api.manifest_digest(repo, "1.0.0")
        aimed = {**art, "subject": {**art["subject"], "digest": new}}  # the old bundle, re-aimed at the new image
        aimed_digest = api.put_manifest(repo, "aimed", json.dumps(aimed).encode(), art["mediaType"])
        entry = {"mediaType": art["mediaType"], "digest": aimed_digest, "artifactType": BUNDLE_TYPE}
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
        api.put_manifest(repo, referrers_tag(new), json.dumps(index).encode(), OCI_INDEX)
        with pytest.raises(SignatureError, match="other content"):
            verify_image(reg.address, repo, "1.0.0", kp.public_pem, *A)
        assert verify_image(reg.address, repo, digest, kp.public_pem, *A).digest == digest
    finally:
        _clean(api, repo)


def test_both_formats_on_one_image_through_the_cli(engine, tmp_path, capsys):
    """Can `python -m helpers sign` put a .sig tag and a bundle (two keys) on one image, and does `verify`
    accept each key (exit 0, naming the storage) and reject a third (exit 1)?"""
    reg = ensure_registry(log=lambda s: None)
    A = (reg.username, reg.password)
    repo = f"course-test/both-{uuid.uuid4().hex[:6]}"
    api = RegistryClient(reg.address, *A)
    one = build(tmp_path, dockerfile_text=f"FROM {base_image('debian')}\nLABEL both={repo}\n").image_id
    old_key, old_pub = generate_keypair().save(tmp_path / "old")
    new_key, new_pub = generate_keypair().save(tmp_path / "new")
    _, third_pub = generate_keypair().save(tmp_path / "third")
    image = f"{reg.address}/{repo}:1.0.0"
    try:
        push(one, reg.address, repo, "1.0.0", *A, client=engine)
        assert main(["sign", image, "--key", str(old_key), "--legacy"]) == 0
        assert main(["sign", image, "--key", str(new_key)]) == 0
        digest = api.manifest_digest(repo, "1.0.0")
        assert {signature_tag(digest), referrers_tag(digest)} <= set(api.tags(repo))
        capsys.readouterr()
        assert main(["verify", image, "--key", str(old_pub)]) == 0
        assert "(sig tag)" in capsys.readouterr().out
        assert main(["verify", image, "--key", str(new_pub)]) == 0
        assert "(bundle (referrers tag))" in capsys.readouterr().out
        assert main(["verify", f"{reg.address}/{repo}@{digest}", "--key", str(third_pub)]) == 1
        assert "not made by this key" in capsys.readouterr().err
    finally:
        _clean(api, repo)
