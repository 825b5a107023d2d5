"""One package from a Debian archive, checked the way apt checks it: a signed InRelease, the index's sha256 from it,
the package's sha256 from the index.

The kit uses it for a package the host's own release lacks (Debian 12 packages no buildx plugin; Debian 13 does)
without adding another release to the host's apt sources: nothing goes through dpkg's database, and every byte is
checked against the archive's signature before it is used. Every download is bounded in time and size.
"""

from __future__ import annotations

import hashlib
import lzma
import re
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

from helpers.errors import SetupError
from helpers.supplychain.pkgdb import parse_dpkg_status

__all__ = [
    "RELEASE_CAP",
    "INDEX_CAP",
    "INDEX_TEXT_CAP",
    "DEB_CAP",
    "TIMEOUT",
    "DebEntry",
    "http_fetch",
    "verify_inrelease",
    "release_sha256",
    "release_field",
    "find_package",
    "check_sha256",
    "fetch_package",
    "extract_member",
]

#: Bytes accepted for an InRelease file (Debian's are about 150 KB).
RELEASE_CAP = 4 << 20
#: Bytes accepted for a compressed Packages index (trixie's main/amd64 Packages.xz: about 10 MB).
INDEX_CAP = 64 << 20
#: Bytes of a decompressed Packages index (trixie's main/amd64: about 57 MB).
INDEX_TEXT_CAP = 256 << 20
#: Bytes accepted for one .deb.
DEB_CAP = 256 << 20
#: Seconds one download may take in all.
TIMEOUT = 300

#: ``fetch(url, cap) -> bytes``: how the archive is read (tests pass a fake).
Fetch = Callable[[str, int], bytes]
_MIRROR_HINT = "Check the network to the Debian mirror, or set COURSE_DEBIAN_MIRROR to another mirror, and run again."


@dataclass(frozen=True)
class DebEntry:
    """A package as the signed index lists it."""

    package: str
    version: str
    architecture: str
    filename: str
    sha256: str
    size: int


def http_fetch(url: str, cap: int, timeout: float = TIMEOUT) -> bytes:
    """The body of ``url``, refused past ``cap`` bytes or ``timeout`` seconds in all.

    Raises:
        SetupError: The download failed, was too large or too slow.
    """
    deadline = time.monotonic() + timeout
    chunks, total = [], 0
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=min(timeout, 60)) as r:
            length = r.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > cap:
                raise SetupError(f"{url} is {int(length)} bytes, more than the {cap} the kit accepts.", _MIRROR_HINT)
            while chunk := r.read(1 << 20):
                total += len(chunk)
                if total > cap:
                    raise SetupError(f"{url} sent more than the {cap} bytes the kit accepts.", _MIRROR_HINT)
                if time.monotonic() > deadline:
                    raise SetupError(f"Downloading {url} took more than {timeout:.0f} s.", _MIRROR_HINT)
                chunks.append(chunk)
    except (urllib.error.URLError, OSError) as e:
        raise SetupError(f"Cannot download {url}: {getattr(e, 'reason', e)}.", _MIRROR_HINT) from e
    return b"".join(chunks)


def verify_inrelease(data: bytes, keyring: Path, suite: str) -> str:
    """The signed text of an InRelease file, once ``gpgv`` finds a good signature by ``suite``'s own archive key.

    Only the text gpgv vouches for is returned (never the file as downloaded). Its ``Codename`` must be ``suite``.

    Raises:
        SetupError: A bad signature, no good one, a keyring without ``suite``'s key, or another release's file.
    """
    with tempfile.TemporaryDirectory(prefix="course-inrelease-") as tmp:
        src, out = Path(tmp) / "InRelease", Path(tmp) / "signed"
        src.write_bytes(data)
        cmd = ["gpgv", "--status-fd", "1", "--keyring", str(keyring), "--output", str(out), str(src)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SetupError(f"gpgv could not run: {e}.", "Install Debian's gpgv (`apt-get install gpgv`).") from e
        status = [line.split(" ", 2)[1:] for line in proc.stdout.splitlines() if line.startswith("[GNUPG:] ")]
        good = [rest[0] if rest else "" for word, *rest in status if word == "GOODSIG"]
        if any(word == "BADSIG" for word, *_ in status) or not good:
            raise SetupError(
                f"The Debian archive's InRelease for {suite} does not verify against {keyring}.", _MIRROR_HINT
            )
        if not any(f"/{suite})" in uid for uid in good):
            raise SetupError(
                f"{keyring} holds no key of Debian's {suite} archive (signed by: {'; '.join(good)}).",
                "Update the keyring: `apt-get update && apt-get install debian-archive-keyring` "
                "(Debian 12's 2023.3+deb12u2 or later holds Debian 13's keys).",
            )
        text = out.read_text(errors="replace")
    if release_field(text, "Codename") != suite:
        raise SetupError(f"The signed InRelease fetched for {suite} is another release's.", _MIRROR_HINT)
    return text


def release_field(text: str, name: str) -> str:
    """The value of a one-line field of a Release file ("" when absent)."""
    m = re.search(rf"^{re.escape(name)}:[ \t]*(.*)$", text, re.M)
    return m.group(1).strip() if m else ""


def release_sha256(text: str) -> dict[str, tuple[str, int]]:
    """path -> (sha256, size) from the ``SHA256:`` field of a Release file."""
    out: dict[str, tuple[str, int]] = {}
    inside = False
    for line in text.splitlines():
        if not line[:1].isspace():
            inside = line.strip() == "SHA256:"
            continue
        words = line.split()
        if inside and len(words) == 3 and re.fullmatch(r"[0-9a-fA-F]{64}", words[0]) and words[1].isdigit():
            out[words[2]] = (words[0].lower(), int(words[1]))
    return out


def check_sha256(data: bytes, sha256: str, size: int, what: str) -> None:
    """Refuse ``data`` unless it has the size and sha256 the signed index gives.

    Raises:
        SetupError: It does not.
    """
    got = hashlib.sha256(data).hexdigest()
    if len(data) != size or got != sha256.lower():
        raise SetupError(
            f"{what} does not match the signed index (sha256 {got[:16]}..., {len(data)} bytes; "
            f"expected {sha256[:16]}..., {size} bytes): refused.",
            "The mirror sent something else than the archive lists (a stale cache or a tampered copy). " + _MIRROR_HINT,
        )


def find_package(index: str, package: str, arch: str) -> DebEntry:
    """The ``package`` built for ``arch`` (or ``all``) in a Packages index.

    Raises:
        SetupError: It is not there, or its stanza lacks a sane Filename, SHA256 or Size.
    """
    head = f"Package: {package}\n"
    for block in re.split(r"\n[ \t]*\n", index):
        if not block.lstrip("\n").startswith(head):
            continue
        for f in parse_dpkg_status(block):
            if f.get("Package") != package or f.get("Architecture") not in (arch, "all"):
                continue
            name, sha, size = f.get("Filename", ""), f.get("SHA256", ""), f.get("Size", "")
            if not (name.startswith("pool/") and ".." not in name.split("/") and size.isdigit()):
                raise SetupError(f"The index's entry for {package} is malformed ({name!r}).", _MIRROR_HINT)
            if not re.fullmatch(r"[0-9a-fA-F]{64}", sha):
                raise SetupError(f"The index lists no sha256 for {package}.", _MIRROR_HINT)
            return DebEntry(package, f.get("Version", ""), f["Architecture"], name, sha.lower(), int(size))
    raise SetupError(f"The Debian archive's index lists no {package} for {arch}.", _MIRROR_HINT)


def _check_valid_until(release: str, suite: str) -> None:
    """Refuse an InRelease past its ``Valid-Until`` (as apt does: an old signed file replayed by a mirror)."""
    until = release_field(release, "Valid-Until")
    try:
        expired = bool(until) and parsedate_to_datetime(until).timestamp() < time.time()
    except (TypeError, ValueError):
        expired = True
    if expired:
        raise SetupError(f"The signed InRelease of {suite} expired ({until}).", _MIRROR_HINT)


def _decompress(data: bytes, path: str) -> str:
    """A Packages index's text, decompressed within :data:`INDEX_TEXT_CAP`."""
    if path.endswith(".xz"):
        text = lzma.LZMADecompressor().decompress(data, max_length=INDEX_TEXT_CAP + 1)
    elif path.endswith(".gz"):
        text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, INDEX_TEXT_CAP + 1)
    else:
        text = data
    if len(text) > INDEX_TEXT_CAP:
        raise SetupError(f"{path} decompresses to more than {INDEX_TEXT_CAP} bytes: refused.", _MIRROR_HINT)
    return text.decode("utf-8", errors="replace")


def fetch_package(
    mirror: str, suite: str, package: str, arch: str, keyring: Path, fetch: Fetch = http_fetch
) -> tuple[DebEntry, bytes]:
    """Download ``package`` of ``suite``'s ``main`` from ``mirror``, checked all the way from the signature.

    Returns:
        (its index entry, the .deb's bytes).

    Raises:
        SetupError: A download failed, or a signature or a sha256 does not match.
    """
    base = f"{mirror.rstrip('/')}/dists/{suite}"
    release = verify_inrelease(fetch(f"{base}/InRelease", RELEASE_CAP), keyring, suite)
    _check_valid_until(release, suite)
    hashes = release_sha256(release)
    by_hash = release_field(release, "Acquire-By-Hash").lower() == "yes"
    for name in ("Packages.xz", "Packages.gz"):
        path = f"main/binary-{arch}/{name}"
        if path in hashes:
            break
    else:
        raise SetupError(f"The signed InRelease of {suite} lists no Packages index for {arch}.", _MIRROR_HINT)
    sha, size = hashes[path]
    # by-hash names the very file the signature lists, so a mirror update between the two downloads cannot mix them
    url = f"{base}/{path.rsplit('/', 1)[0]}/by-hash/SHA256/{sha}" if by_hash else f"{base}/{path}"
    data = fetch(url, min(INDEX_CAP, size))
    check_sha256(data, sha, size, f"{suite}'s {path}")
    entry = find_package(_decompress(data, path), package, arch)
    deb = fetch(f"{mirror.rstrip('/')}/{entry.filename}", min(DEB_CAP, entry.size))
    check_sha256(deb, entry.sha256, entry.size, entry.filename)
    return entry, deb


def extract_member(deb: bytes, member: str, dest: Path) -> Path:
    """Unpack ``deb`` into a temporary directory with ``dpkg-deb -x`` and copy only ``member`` to ``dest``.

    Raises:
        SetupError: dpkg-deb fails, or the package has no such regular file.
    """
    with tempfile.TemporaryDirectory(prefix="course-deb-") as tmp:
        pkg, root = Path(tmp) / "pkg.deb", Path(tmp) / "root"
        pkg.write_bytes(deb)
        proc = subprocess.run(["dpkg-deb", "-x", str(pkg), str(root)], capture_output=True, text=True, timeout=300)
        found = root / member
        if proc.returncode != 0 or found.is_symlink() or not found.is_file():
            raise SetupError(
                f"The package has no {member} ({proc.stderr.strip()[:200]}).", "Report this to the course team."
            )
        dest.write_bytes(found.read_bytes())
    return dest
