"""The token-protected index and the byte search, without an engine."""

import io
import zipfile

import requests

from helpers.supplychain.privateindex import TokenIndex, make_private_wheel
from helpers.supplychain.secrets import _contains


def test_wheel_is_installable_shape(tmp_path):
    """Does the wheel hold the module, METADATA, WHEEL and RECORD?"""
    whl = make_private_wheel(tmp_path)
    names = zipfile.ZipFile(whl).namelist()
    assert whl.name == "course_private_lib-1.0.0-py3-none-any.whl"
    assert {
        "course_private_lib/__init__.py",
        "course_private_lib-1.0.0.dist-info/METADATA",
        "course_private_lib-1.0.0.dist-info/RECORD",
    } <= set(names)


def test_index_requires_the_token(tmp_path):
    """Does the index answer 401 without or with a wrong token, and serve the wheel with the right one?"""
    whl = make_private_wheel(tmp_path)
    with TokenIndex([whl], "s3cret-token-123", bind="127.0.0.1") as idx:
        base = f"http://{idx.host}"
        assert requests.get(f"{base}/simple/course-private-lib/", timeout=5).status_code == 401
        assert requests.get(f"{base}/simple/", auth=("__token__", "wrong"), timeout=5).status_code == 401
        page = requests.get(f"{base}/simple/course-private-lib/", auth=("__token__", "s3cret-token-123"), timeout=5)
        assert page.status_code == 200 and whl.name in page.text
        blob = requests.get(f"{base}/files/{whl.name}", auth=("__token__", "s3cret-token-123"), timeout=5)
        assert blob.content == whl.read_bytes()
        assert idx.refused == 2 and idx.served == 2


def test_search_across_chunk_boundaries():
    """Is a secret split across two read chunks still found?"""
    data = b"x" * 10 + b"TOKEN123" + b"y" * 10
    assert _contains(io.BytesIO(data), b"TOKEN123", chunk=13)
    assert not _contains(io.BytesIO(data), b"TOKEN999", chunk=13)


def test_search_an_archive_without_engine(tmp_path):
    """Does the leak check read a `docker save` archive from disk, finding the token in history and file names?"""
    from helpers.archive.demo import write_image_archive
    from helpers.supplychain.secrets import find_secret_in_image

    token = "tok-" + "7" * 20
    layers = [
        [("etc", "dir", 0), ("etc/os-release", "file", 300)],
        [("srv", "dir", 0), (f"srv/{token}.txt", "file", 10)],
    ]
    leaky = write_image_archive(
        tmp_path / "leaky.tar",
        layers,
        commands=["ADD rootfs /", f"RUN pip install --index-url http://__token__:{token}@x/"],
    )
    check = find_secret_in_image(leaky, token)
    assert not check.clean and check.layers_checked == 2 and check.files_checked == 2
    assert {(leak.where, leak.path) for leak in check.leaks} == {("history", ""), ("layer 1", f"srv/{token}.txt")}
    clean = write_image_archive(tmp_path / "clean.tar", layers[:1])
    assert find_secret_in_image(str(clean), token).clean


def test_search_a_broken_archive(tmp_path):
    """Is a file that is not an image archive reported as NotAnImageArchive, not as a crash?"""
    import pytest

    from helpers.errors import NotAnImageArchive
    from helpers.supplychain.secrets import find_secret_in_image

    (tmp_path / "junk.tar").write_bytes(b"x" * 2048)
    with pytest.raises(NotAnImageArchive):
        find_secret_in_image(tmp_path / "junk.tar", "a-long-token")
