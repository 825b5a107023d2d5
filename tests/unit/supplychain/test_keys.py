"""Signing keys: saving a pair safely, refusing what is not a key, telling cosign key files apart."""

import pytest

from helpers.errors import SignatureError
from helpers.supplychain.keys import generate_keypair, is_cosign_key, load_private_key, load_public_key


def test_keys_are_not_overwritten(tmp_path):
    """Does saving a key pair refuse to overwrite existing key files, and make the private key 600?"""
    key, pub = generate_keypair().save(tmp_path)
    assert oct(key.stat().st_mode & 0o777) == "0o600" and pub.read_bytes().startswith(b"-----BEGIN PUBLIC KEY")
    with pytest.raises(SignatureError, match="already exists"):
        generate_keypair().save(tmp_path)


def test_garbage_key():
    """Is a file that is not a key refused clearly?"""
    with pytest.raises(SignatureError, match="public key"):
        load_public_key(b"-----BEGIN nonsense")


def test_cosign_key_files_are_told_apart(tmp_path):
    """Is an encrypted cosign key recognised (to hand it to cosign), and a kit PEM key, or a missing file, not?"""
    pair = generate_keypair()
    assert load_private_key(pair.private_pem) is not None
    assert not is_cosign_key(pair.private_pem)
    assert is_cosign_key(
        b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nx\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    )
    assert not is_cosign_key(tmp_path / "missing.key")
