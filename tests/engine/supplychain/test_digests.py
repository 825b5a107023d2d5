"""Digests and facts computed from `docker save` archives, compared with what the engine and a registry say."""

from __future__ import annotations

import uuid

import pytest

from helpers.archive.reader import save_image
from helpers.engine.registry import ensure_registry
from helpers.images.build import build
from helpers.images.inspect import facts_from_archive, inspect_image
from helpers.supplychain.digests import archive_digests, push_archive
from helpers.supplychain.publish import pull_by_digest
from helpers.supplychain.registryapi import RegistryClient

pytestmark = pytest.mark.engine

DOCKERFILE = """FROM scratch
COPY hello.txt /srv/hello.txt
COPY data.bin /srv/data.bin
USER 10001
EXPOSE 8000
CMD ["/srv/hello"]
"""


@pytest.fixture
def tiny_image(engine, tmp_path):
    """A two-layer image FROM scratch (no base to pull), removed afterwards."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "hello.txt").write_text(f"hello {uuid.uuid4().hex}\n")
    (ctx / "data.bin").write_bytes(bytes(range(256)) * 400)
    tag = f"course-test/digests:{uuid.uuid4().hex[:8]}"
    result = build(ctx, dockerfile_text=DOCKERFILE, tags=[tag], client=engine)
    yield tag, result.image_id
    engine.images.remove(tag, force=True)


def test_archive_digests_equal_the_engines(engine, tiny_image, tmp_path):
    """Is the config digest computed from the archive the engine's image ID, and are its layer digests the engine's?"""
    tag, image_id = tiny_image
    path = save_image(tag, tmp_path / "tiny.tar", client=engine)
    d = archive_digests(path)
    attrs = engine.images.get(tag).attrs
    assert d.image_id == image_id == attrs["Id"]
    assert [x.digest for x in d.layers] == attrs["RootFS"]["Layers"]
    assert d.verified and len(d.layers) == 2


def test_facts_from_archive_equal_inspect(engine, tiny_image, tmp_path):
    """Do the facts read from the archive equal `docker inspect`'s (id, user, command, ports, layers, size)?"""
    tag, _ = tiny_image
    path = save_image(tag, tmp_path / "tiny.tar", client=engine)
    ours, theirs = facts_from_archive(path), inspect_image(tag, client=engine)
    assert (ours.id, ours.user, ours.command, ours.exposed_ports, ours.fs_layers) == (
        theirs.id,
        theirs.user,
        theirs.command,
        theirs.exposed_ports,
        theirs.fs_layers,
    )
    assert ours.size == theirs.size
    assert [x.size for x in ours.layers] == [x.size for x in theirs.layers]


def test_manifest_digest_is_what_the_registry_shows(engine, tiny_image, tmp_path):
    """Pushed as it is in the archive, does the registry name the image by the computed manifest digest, and
    does pulling that digest give back the same image ID?"""
    tag, image_id = tiny_image
    reg = ensure_registry(log=lambda s: None)
    api = RegistryClient(reg.address, reg.username, reg.password)
    repo = f"course-test/digests-{uuid.uuid4().hex[:6]}"
    d = archive_digests(save_image(tag, tmp_path / "tiny.tar", client=engine))
    pulled_ref = f"{reg.address}/{repo}@{d.manifest_digest}"
    try:
        assert push_archive(tmp_path / "tiny.tar", api, repo, "1.0.0") == d.manifest_digest
        assert api.manifest_digest(repo, "1.0.0") == d.manifest_digest
        pulled = pull_by_digest(reg.address, repo, d.manifest_digest, reg.username, reg.password, client=engine)
        assert pulled.id == image_id
    finally:
        api.delete_manifest(repo, d.manifest_digest)
        try:
            engine.images.remove(pulled_ref, force=False)
        except Exception:  # noqa: BLE001 - the pull may not have happened
            pass
