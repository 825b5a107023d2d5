"""Signing keys: ECDSA P-256 key pairs in PEM, as ``cosign generate-key-pair`` makes them (unencrypted).

Kept apart from :mod:`helpers.supplychain.sign` so that the signature format and the
registry round trips read on their own; a key can be given as PEM bytes, a PEM string or
the path of a ``.key``/``.pub`` file everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.errors import SignatureError

__all__ = ["KeyPair", "generate_keypair", "load_private_key", "load_public_key", "is_cosign_key"]


@dataclass
class KeyPair:
    """An ECDSA P-256 key pair as PEM bytes (PKCS#8 private key, SubjectPublicKeyInfo public key)."""

    private_pem: bytes
    public_pem: bytes

    def save(self, directory: str | os.PathLike[str], name: str = "cosign") -> tuple[Path, Path]:
        """Write ``<name>.key`` (mode 600) and ``<name>.pub``; never overwrites existing files."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        key, pub = d / f"{name}.key", d / f"{name}.pub"
        for p in (key, pub):
            if p.exists():
                raise SignatureError(
                    f"{p} already exists; the kit does not overwrite keys.", "Pick another folder or name."
                )
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.private_pem)
        pub.write_bytes(self.public_pem)
        return key, pub


def generate_keypair() -> KeyPair:
    """A new ECDSA P-256 key pair (what ``cosign generate-key-pair`` makes, unencrypted)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    priv = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(priv, pub)


def _pem(key: bytes | str | os.PathLike[str]) -> bytes:
    """The PEM bytes of ``key``: given as bytes, as a PEM string, or as the path of a key file."""
    if isinstance(key, bytes):
        return key
    if isinstance(key, str) and key.lstrip().startswith("-----BEGIN"):
        return key.encode()
    return Path(key).read_bytes()


def load_private_key(key: bytes | str | os.PathLike[str]) -> Any:
    """The ``cryptography`` private key object of an unencrypted PEM key.

    Raises:
        SignatureError: The key is not an unencrypted PEM private key.
    """
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        return load_pem_private_key(_pem(key), password=None)
    except (ValueError, TypeError) as e:
        raise SignatureError(
            "The private key cannot be read (PEM, unencrypted ECDSA P-256 expected).",
            "Make one with helpers.generate_keypair().",
        ) from e


def load_public_key(key: bytes | str | os.PathLike[str]) -> Any:
    """The ``cryptography`` public key object of a PEM public key (a ``.pub`` file).

    Raises:
        SignatureError: The key is not a PEM public key.
    """
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        return load_pem_public_key(_pem(key))
    except (ValueError, TypeError) as e:
        raise SignatureError(
            "The public key cannot be read (PEM expected).", "Pass the .pub file of the key pair."
        ) from e


def is_cosign_key(key: bytes | str | os.PathLike[str]) -> bool:
    """Whether ``key`` is a password-protected cosign key file (only cosign itself can use it)."""
    try:
        return b"ENCRYPTED SIGSTORE PRIVATE KEY" in _pem(key) or b"ENCRYPTED COSIGN PRIVATE KEY" in _pem(key)
    except OSError:
        return False
