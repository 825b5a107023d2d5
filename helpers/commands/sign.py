"""`python -m helpers sign|verify IMAGE --key KEY`: sign and verify images in a registry, as cosign does offline.

``sign`` writes a Sigstore bundle attached as an OCI referrer (cosign 3's default) or, with ``--legacy``, the
``sha256-<digest>.sig`` tag (cosign 2's format). ``verify`` reads both and exits 1 when no valid signature is
found, so a CI step can gate a deployment on it. Credentials: the course registry's own for ``127.0.0.1``,
else ``REGISTRY_USERNAME`` / ``REGISTRY_PASSWORD`` from the environment.
"""

from __future__ import annotations

import argparse
import os
import sys

from helpers.engine.registry import local_registry
from helpers.errors import CourseError, SignatureError
from helpers.supplychain.sign import sign_image, verify_image

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.supplychain.sign"


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "sign",
        help="sign an image in a registry (Sigstore bundle as OCI referrer; --legacy: the .sig tag)",
        description="Sign the digest IMAGE resolves to now, offline (no transparency log), with a PEM key.",
    )
    s.add_argument("image", metavar="IMAGE", help="REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:...")
    s.add_argument("--key", required=True, help="private key (PEM, from helpers.generate_keypair, or a cosign.key)")
    s.add_argument("--legacy", action="store_true", help="store the sha256-<digest>.sig tag (cosign 2.x format)")
    s.set_defaults(func=run_sign)
    v = sub.add_parser(
        "verify",
        help="verify an image's signature (bundle referrer or .sig tag); exit 1 when none is valid",
        description="Verify that what IMAGE resolves to now carries a valid signature by the public key.",
    )
    v.add_argument("image", metavar="IMAGE", help="REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:...")
    v.add_argument("--key", required=True, help="public key (PEM, the .pub file)")
    v.set_defaults(func=run_verify)


def split_image(image: str) -> tuple[str, str, str]:
    """``host:port/repo/name:tag`` (or ``@sha256:...``) -> (address, repository, reference).

    Raises:
        CourseError: No registry address or no tag/digest in the reference.
    """
    name, at, digest = image.partition("@")
    head, _, last = name.rpartition("/")
    if not at and ":" in last:  # a tag: the colon after the last slash (a port's colon comes before it)
        last, _, digest = last.rpartition(":")
        name = f"{head}/{last}"
    address, slash, repository = name.partition("/")
    if not address or not slash or not repository or not digest:
        raise CourseError(
            f"{image!r} is not REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:...",
            "Name the registry, the repository and a tag or digest: 127.0.0.1:5000/course/app:1.0.0.",
        )
    return address, repository, digest


def _credentials(address: str) -> tuple[str | None, str | None]:
    """The course registry's credentials for its own address, else the environment's (None when unset)."""
    reg = local_registry()
    if address == reg.address:
        return reg.username, reg.password
    return os.environ.get("REGISTRY_USERNAME"), os.environ.get("REGISTRY_PASSWORD")


def run_sign(args: argparse.Namespace) -> int:
    address, repository, reference = split_image(args.image)
    digest = sign_image(address, repository, reference, args.key, *_credentials(address), legacy=args.legacy)
    form = "sha256-<digest>.sig tag" if args.legacy else "Sigstore bundle, attached as a referrer"
    print(f"signed {address}/{repository}@{digest} ({form})")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    address, repository, reference = split_image(args.image)
    try:
        v = verify_image(address, repository, reference, args.key, *_credentials(address))
    except SignatureError as e:
        print(f"REJECTED: {e}", file=sys.stderr)
        return 1
    print(f"VERIFIED {address}/{repository}@{v.digest} ({v.storage})")
    return 0
