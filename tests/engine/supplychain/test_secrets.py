"""A private dependency installed with a secret mount leaves no trace; the ARG/ENV version leaks."""

import os
import secrets

import pytest

from helpers.images.build import build
from helpers.supplychain.privateindex import TokenIndex, make_private_wheel
from helpers.supplychain.secrets import SECRET_DOCKERFILES, find_secret_in_image

pytestmark = pytest.mark.engine

MOUNT, LEAKY = SECRET_DOCKERFILES["secret-mount"], SECRET_DOCKERFILES["arg-env"]


def _remove(engine, tags):
    for t in tags:
        try:
            engine.images.remove(t, force=True)
        except Exception:  # noqa: BLE001 - the build may have failed before tagging
            pass


def test_secret_mount_clean_arg_env_leaks(engine, tmp_path):
    """Does the secret-mount build reach the token-protected index and keep the token out of every layer, while
    ARG/ENV leaks it?
    """
    token = secrets.token_hex(16)
    tfile = tmp_path / "token"
    tfile.write_text(token)
    os.chmod(tfile, 0o600)
    whl = make_private_wheel(tmp_path)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    tags = [f"course-test/secret-mount:{token[:6]}", f"course-test/secret-env:{token[:6]}"]
    try:
        with TokenIndex([whl], token, client=engine) as idx:
            build(
                ctx,
                dockerfile_text=MOUNT,
                tags=[tags[0]],
                build_args={"INDEX_HOST": idx.host},
                secrets={"index_token": str(tfile)},
                no_cache=True,
            )
            assert idx.served >= 2  # the index page and the wheel
            build(
                ctx,
                dockerfile_text=LEAKY,
                tags=[tags[1]],
                build_args={"INDEX_HOST": idx.host, "INDEX_TOKEN": token},
                no_cache=True,
            )
        clean = find_secret_in_image(tags[0], token, client=engine)
        assert clean.clean and clean.layers_checked >= 2 and clean.files_checked > 1000
        leaky = find_secret_in_image(tags[1], token, client=engine)
        assert not leaky.clean
        assert {"history", "config"} <= {leak.where for leak in leaky.leaks}
    finally:
        _remove(engine, tags)


def test_demo_images_checked_from_their_archives(engine, tmp_path):
    """Do notebook 21's catalog images, saved as archives, give the same verdicts read from disk as from the engine?"""
    from helpers.archive.reader import save_image
    from helpers.supplychain.secrets import build_secret_demo

    token = secrets.token_hex(16)
    tags = [f"course-test/secret-demo:{kind}-{token[:6]}" for kind in ("secret-mount", "arg-env")]
    try:
        for kind, tag in zip(("secret-mount", "arg-env"), tags):
            assert build_secret_demo(kind, token=token, tag=tag, client=engine) == tag
        verdicts = []
        for tag in tags:
            from_archive = find_secret_in_image(save_image(tag, tmp_path / "img.tar", client=engine), token)
            from_engine = find_secret_in_image(tag, token, client=engine)
            assert (from_archive.layers_checked, from_archive.files_checked, from_archive.leaks) == (
                from_engine.layers_checked,
                from_engine.files_checked,
                from_engine.leaks,
            )
            verdicts.append(from_archive.clean)
        assert verdicts == [True, False]
    finally:
        _remove(engine, tags)
