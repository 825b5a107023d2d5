"""Signing in both of cosign's formats (bundle referrer, .sig tag), against an in-memory registry."""

import hashlib
import json

import pytest

import helpers.supplychain.sign as sign
from helpers.errors import SignatureError
from helpers.supplychain.bundle import BUNDLE_TYPE
from helpers.supplychain.keys import generate_keypair
from helpers.supplychain.referrers import OCI_EMPTY, referrers_tag
from helpers.supplychain.sign import (
    cosign_sign_command,
    sign_image,
    signature_tag,
    simple_signing_payload,
    verify_image,
)


class Response:
    def __init__(self, status_code, content=b"", headers=None):
        self.status_code, self.content, self.headers = status_code, content, headers or {}

    def json(self):
        return json.loads(self.content)


class FakeRegistry:
    """Just enough of RegistryClient: manifests by tag/digest, blobs, and (optionally) the referrers API."""

    store: dict = {}
    referrers_api = False  # distribution 2.8, like the course registry: no API, the referrers tag is used

    def __init__(self, address, username=None, password=None):
        self.address = address

    def request(self, method, path, ok=(200,), **kw):
        _, _, repo_and_rest = path.partition("/v2/")
        if "/referrers/" in path:
            if not self.referrers_api:
                return Response(404)
            repo, _, digest = repo_and_rest.split("?")[0].partition("/referrers/")
            found = [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": k[2],
                    "artifactType": m.get("artifactType"),
                }
                for k, v in self.store.items()
                if k[0] == "blob" and k[1] == repo and (m := _json(v)) and m.get("subject", {}).get("digest") == digest
            ]
            return Response(200, json.dumps({"manifests": found}).encode())
        repo, _, ref = repo_and_rest.partition("/manifests/")
        if method == "PUT":
            self.put_manifest(repo, ref, kw["data"], kw["headers"]["Content-Type"])
            return Response(201, headers={"OCI-Subject": "yes"} if self.referrers_api else {})
        digest = self.store[("tag", repo, ref)]
        return Response(
            200, self.store[("blob", repo, digest)], {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        )

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
        self.store[("tag", repo, digest)] = digest  # a manifest is also reachable by its digest
        return digest

    def upload_blob(self, repo, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.store[("blob", repo, digest)] = data
        return digest

    def get_blob(self, repo, digest):
        return self.store[("blob", repo, digest)]


def _json(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


@pytest.fixture(params=[False, True], ids=["referrers-tag", "referrers-api"])
def reg(monkeypatch, request):
    FakeRegistry.store = {}
    monkeypatch.setattr(FakeRegistry, "referrers_api", request.param)
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
    digest = sign_image("reg:5000", "app", "1.0.0", kp.private_pem, legacy=True)
    manifest, _, _ = reg.get_manifest("app", signature_tag(digest))
    layer = manifest["layers"][0]
    assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    assert sign.SIG_ANNOTATION in layer["annotations"]
    assert verify_image("reg:5000", "app", "1.0.0", kp.public_pem).storage == "sig tag"


def test_sign_then_verify_bundle(reg):
    """Is the default a bundle in a referrer manifest (subject = the image), found again and verified?"""
    kp = generate_keypair()
    digest = sign_image("reg:5000", "app", "1.0.0", kp.private_pem)
    assert ("tag", "app", signature_tag(digest)) not in reg.store  # no .sig tag in this format
    assert (
        ("tag", "app", referrers_tag(digest)) in reg.store
    ) is not reg.referrers_api  # fallback tag only without API
    artifacts = [json.loads(v) for k, v in reg.store.items() if k[0] == "blob" and b'"subject"' in v]
    assert len(artifacts) == 1
    art = artifacts[0]
    assert art["artifactType"] == BUNDLE_TYPE and art["config"]["mediaType"] == OCI_EMPTY
    assert art["subject"]["digest"] == digest and art["layers"][0]["mediaType"] == BUNDLE_TYPE
    assert art["annotations"]["dev.sigstore.bundle.content"] == "dsse-envelope"
    v = verify_image("reg:5000", "app", "1.0.0", kp.public_pem)
    assert v.digest == digest
    assert v.storage == ("bundle (referrers API)" if reg.referrers_api else "bundle (referrers tag)")


def test_second_bundle_is_added_to_the_fallback_index(reg):
    """Do two signatures (two keys) both stay listed, and does either key verify?"""
    a, b = generate_keypair(), generate_keypair()
    digest = sign_image("reg:5000", "app", "1.0.0", a.private_pem)
    sign_image("reg:5000", "app", "1.0.0", b.private_pem)
    if not reg.referrers_api:
        assert len(reg.get_manifest("app", referrers_tag(digest))[0]["manifests"]) == 2
    assert verify_image("reg:5000", "app", "1.0.0", a.public_pem).digest == digest
    assert verify_image("reg:5000", "app", "1.0.0", b.public_pem).digest == digest


def test_cosign_command_per_format():
    """Does the cosign 3 command keep the log off the way cosign 3 accepts, and pick the format?"""
    bundle = cosign_sign_command("cosign.key", "r/app@sha256:1")
    assert "--use-signing-config=false" in bundle and "--tlog-upload=false" in bundle
    assert "--new-bundle-format=false" not in bundle
    assert cosign_sign_command("cosign.key", "r/app@sha256:1", legacy=True)[-2:] == [
        "--new-bundle-format=false",
        "r/app@sha256:1",
    ]


def test_verify_fails_unsigned_wrong_key_and_repointed(reg):
    """Does verification (.sig tag) fail for an unsigned image, another key, and a tag moved to other content?"""
    kp, other = generate_keypair(), generate_keypair()
    with pytest.raises(SignatureError, match="no signature"):
        verify_image("reg:5000", "app", "1.0.0", kp.public_pem)
    sign_image("reg:5000", "app", "1.0.0", kp.private_pem, legacy=True)
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


def test_bundle_rejections(reg):
    """Does a bundle fail for another key, a re-pointed tag, and a referrer re-aimed at the new digest?"""
    kp, other = generate_keypair(), generate_keypair()
    old = sign_image("reg:5000", "app", "1.0.0", kp.private_pem)
    with pytest.raises(SignatureError, match="not made by this key"):
        verify_image("reg:5000", "app", "1.0.0", other.public_pem)
    reg.put_manifest("app", "1.0.0", b'{"image": "two"}', "x")  # the tag moves
    with pytest.raises(SignatureError, match="no signature"):
        verify_image("reg:5000", "app", "1.0.0", kp.public_pem)
    new = reg.manifest_digest("app", "1.0.0")
    # re-aim the old bundle at the new image: a new referrer manifest whose subject is the new digest
    art = next(json.loads(v) for k, v in reg.store.items() if k[0] == "blob" and b'"subject"' in v)
    art["subject"]["digest"] = new
    body = json.dumps(art).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    reg.request("PUT", f"/v2/app/manifests/{digest}", data=body, headers={"Content-Type": art["mediaType"]})
    if not reg.referrers_api:
        entry = {"mediaType": art["mediaType"], "digest": digest, "artifactType": BUNDLE_TYPE}
        index = json.dumps({"schemaVersion": 2, "manifests": [entry]}).encode()
        reg.put_manifest("app", referrers_tag(new), index, "application/vnd.oci.image.index.v1+json")
    with pytest.raises(SignatureError, match="other content"):
        verify_image("reg:5000", "app", "1.0.0", kp.public_pem)
    assert verify_image("reg:5000", "app", old, kp.public_pem).digest == old


def test_copied_signatures_do_not_verify(reg):
    """Does copy_signatures copy both formats, and are both copies rejected for the new digest?"""
    kp = generate_keypair()
    old = sign_image("reg:5000", "app", "1.0.0", kp.private_pem, legacy=True)
    sign_image("reg:5000", "app", "1.0.0", kp.private_pem)
    reg.put_manifest("app", "1.0.0", b'{"image": "two"}', "x")
    new = reg.manifest_digest("app", "1.0.0")
    assert sign.copy_signatures("reg:5000", "app", old, new) == ["sig tag", "bundle"]
    with pytest.raises(SignatureError, match="other content") as e:
        verify_image("reg:5000", "app", "1.0.0", kp.public_pem)
    assert e.value.message.count("other content") == 2  # the bundle's reason and the .sig tag's


def test_fallback_index_without_artifact_type_still_verifies(reg):
    """Does a referrers-tag index whose descriptors lack artifactType (older cosign 3.x) still lead to the bundle?"""
    kp = generate_keypair()
    digest = sign_image("reg:5000", "app", "1.0.0", kp.private_pem)
    if not reg.referrers_api:  # with the API the registry builds the index; here the client's index is edited
        index, _, _ = reg.get_manifest("app", referrers_tag(digest))
        for m in index["manifests"]:
            m.pop("artifactType")
        body = json.dumps(index).encode()
        reg.put_manifest("app", referrers_tag(digest), body, "application/vnd.oci.image.index.v1+json")
    assert verify_image("reg:5000", "app", "1.0.0", kp.public_pem).digest == digest
