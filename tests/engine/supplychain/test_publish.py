"""Push to the local authenticated registry and read it back through the HTTP API."""

import uuid

import pytest

from helpers.engine.baseimages import base_image
from helpers.engine.registry import ensure_registry
from helpers.errors import ImageNotFound, RegistryAuthError, RegistryError
from helpers.images.build import build
from helpers.supplychain.publish import login, pull_by_digest, push
from helpers.supplychain.registryapi import RegistryClient

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def reg(engine):
    return ensure_registry(log=lambda s: None)


def _image(tmp_path, text):
    return build(tmp_path, dockerfile_text=f"FROM {base_image('debian')}\nLABEL course.test={text}\n").image_id


def test_push_version_tag_and_digest_resolves(engine, reg, tmp_path):
    """After a push, does the tag list show the version, and does the recorded digest resolve to the same image?"""
    repo = f"course-test/pub-{uuid.uuid4().hex[:6]}"
    api = RegistryClient(reg.address, reg.username, reg.password)
    image = _image(tmp_path, repo)
    try:
        res = push(image, reg.address, repo, "1.0.0", reg.username, reg.password, client=engine)
        assert "1.0.0" in api.tags(repo) and repo in api.catalog()
        assert api.manifest_digest(repo, "1.0.0") == res.digest
        pulled = pull_by_digest(reg.address, repo, res.digest, reg.username, reg.password, client=engine)
        assert pulled.id == image
    finally:
        for tag in api.tags(repo):
            api.delete_manifest(repo, api.manifest_digest(repo, tag))


def test_rolling_latest_moves_version_tags_do_not(engine, reg, tmp_path):
    """Does `latest` move to new content while a version tag refuses to, and the old digest still resolve?"""
    repo = f"course-test/roll-{uuid.uuid4().hex[:6]}"
    api = RegistryClient(reg.address, reg.username, reg.password)
    one, two = _image(tmp_path, "one" + repo), _image(tmp_path, "two" + repo)
    try:
        first = push(one, reg.address, repo, "latest", reg.username, reg.password, client=engine)
        push(one, reg.address, repo, "1.0.0", reg.username, reg.password, client=engine)
        second = push(two, reg.address, repo, "latest", reg.username, reg.password, client=engine)
        assert first.digest != second.digest and api.manifest_digest(repo, "latest") == second.digest
        with pytest.raises(RegistryError, match="version tags do not move"):
            push(two, reg.address, repo, "1.0.0", reg.username, reg.password, client=engine)
        assert api.manifest_digest(repo, "1.0.0") == first.digest
    finally:
        for tag in api.tags(repo):
            d = api.manifest_digest(repo, tag)
            if d:
                api.delete_manifest(repo, d)


def test_bad_inputs_leave_nothing_tagged(engine, reg, tmp_path):
    """Do a wrong password, an unreachable registry and an unknown image each give one clear error and no tag?"""
    repo = f"course-test/bad-{uuid.uuid4().hex[:6]}"
    api = RegistryClient(reg.address, reg.username, reg.password)
    image = _image(tmp_path, repo)
    engine.images.get(image).tag("course-test/local-name", repo.rsplit("-", 1)[1])
    with pytest.raises(RegistryAuthError, match="refused"):
        push(image, reg.address, repo, "1.0.0", reg.username, "wrong-password", client=engine)
    with pytest.raises(RegistryAuthError):
        login(reg.address, reg.username, "wrong-password", client=engine)
    with pytest.raises(RegistryError, match="cannot be reached"):
        push(image, "127.0.0.1:1", repo, "1.0.0", "u", "p", client=engine)
    with pytest.raises(ImageNotFound):
        push("course-test/nope:0", reg.address, repo, "1.0.0", reg.username, reg.password, client=engine)
    assert api.tags(repo) == []
    local_tags = engine.images.get(image).tags
    assert not [t for t in local_tags if t.startswith(reg.address)], f"a local tag looks published: {local_tags}"
