"""The buildx CLI plugin on Debian 12 hosts, which package none: Debian 13's ``docker-buildx``, checked and installed.

A 23+ docker client without buildx refuses ``DOCKER_BUILDKIT=1 docker build`` and ``docker buildx build``
("the buildx component is missing"). Debian 13 ("trixie") packages buildx 0.13 as ``docker-buildx``, a static
binary that works as a CLI plugin with this host's clients and its 20.10 engine. ``make env`` fetches it from the
host's own Debian mirror, checked from the archive's signature down (:mod:`helpers.engine.debarchive`), and copies
only the binary where every docker client on the machine looks for plugins. A record beside the plugin directory
says the kit put it there. Nothing happens where ``docker buildx version`` already works or the host is not Debian 12.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from helpers.engine.baseimages import debian_mirror
from helpers.engine.daemon import is_root
from helpers.engine.debarchive import Fetch, fetch_package, http_fetch
from helpers.engine.debarchive import extract_member as _extract
from helpers.errors import SetupError
from helpers.images.builders import _candidates
from helpers.supplychain.pkgdb import parse_os_release

__all__ = [
    "PACKAGE",
    "SOURCE_SUITE",
    "SYSTEM_PLUGIN_DIR",
    "RECORD_NAME",
    "KEYRING",
    "is_debian_12",
    "buildx_version",
    "plugin_dir",
    "kit_record",
    "ensure_buildx_plugin",
    "install_buildx_plugin",
    "share_user_plugins",
]

#: The Debian package, the release it comes from, and the binary inside it.
PACKAGE = "docker-buildx"
SOURCE_SUITE = "trixie"
MEMBER = "usr/libexec/docker/cli-plugins/docker-buildx"
#: Where root installs it: every docker client (Debian's 20.10 and a 23+ one) looks here, whatever DOCKER_CONFIG says.
SYSTEM_PLUGIN_DIR = Path("/usr/local/lib/docker/cli-plugins")
#: The kit's record, in the plugin directory's parent (a file in cli-plugins itself would be taken for a plugin).
RECORD_NAME = "course-kit-buildx.json"
#: The host's Debian archive keys (Debian 12's debian-archive-keyring holds Debian 13's since 2023.3+deb12u2).
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")

Log = Callable[[str], None]


def is_debian_12(os_release: Path = Path("/etc/os-release")) -> bool:
    """True on Debian 12 ("bookworm") itself (not a derivative: Ubuntu has its own buildx packages)."""
    try:
        info = parse_os_release(os_release.read_text())
    except OSError:
        return False
    return info.get("id") == "debian" and info.get("version_id") == "12"


def buildx_version() -> str:
    """The first line of ``docker buildx version`` from the first docker client that has it ("" when none does)."""
    for cli in _candidates():
        try:
            out = subprocess.run([cli, "buildx", "version"], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip().splitlines()[0]
    return ""


def plugin_dir() -> Path:
    """Where the plugin goes: :data:`SYSTEM_PLUGIN_DIR` as root, else the user's ``$DOCKER_CONFIG/cli-plugins``
    (``~/.docker/cli-plugins``), which the student's terminal and the notebook kernel both read."""
    if is_root():
        return SYSTEM_PLUGIN_DIR
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "cli-plugins"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def kit_record(directory: Path | None = None) -> dict | None:
    """The kit's record of the plugin in ``directory`` (default :func:`plugin_dir`), when the file there is still
    the one the kit installed (same sha256); else None."""
    directory = directory or plugin_dir()
    try:
        record = json.loads((directory.parent / RECORD_NAME).read_text())
        ours = _sha256_file(directory / "docker-buildx") == record.get("binary_sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return record if ours and isinstance(record, dict) else None


def ensure_buildx_plugin(log: Log = print, directory: Path | None = None, **kwargs) -> Path | None:
    """On a Debian 12 host where ``docker buildx version`` fails, install the plugin; returns its path, else None.

    Keyword arguments go to :func:`install_buildx_plugin`.

    Raises:
        SetupError: The download or a check failed (the message says which; the hint what to do).
    """
    if not is_debian_12() or buildx_version():
        return None
    return install_buildx_plugin(log, directory, **kwargs)


def install_buildx_plugin(
    log: Log = print,
    directory: Path | None = None,
    etc_apt: Path = Path("/etc/apt"),
    keyring: Path = KEYRING,
    fetch: Fetch = http_fetch,
    arch: str = "",
) -> Path:
    """Download Debian 13's ``docker-buildx`` from the host's mirror, check it, and install its binary as
    ``<directory>/docker-buildx`` (default :func:`plugin_dir`), with the kit's record beside the directory.

    Raises:
        SetupError: A plugin the kit did not install is in the way, the keyring is missing, or the download or a
            check failed.
    """
    directory = directory or plugin_dir()
    target = directory / "docker-buildx"
    if target.exists() and kit_record(directory) is None:
        raise SetupError(
            f"{target} exists and the kit did not install it, yet `docker buildx version` fails.",
            f"Repair or remove {target} (for example `docker-buildx version` shows what is wrong), then run again.",
        )
    if not keyring.exists():
        raise SetupError(
            f"No Debian archive keyring at {keyring}.", "Install it: `apt-get install debian-archive-keyring`."
        )
    mirror = debian_mirror(SOURCE_SUITE, etc_apt)
    log(f"Installing the buildx CLI plugin: Debian {SOURCE_SUITE}'s {PACKAGE} from {mirror} (about 13 MB)...")
    arch = arch or _dpkg_arch()
    entry, deb = fetch_package(mirror, SOURCE_SUITE, PACKAGE, arch, keyring, fetch)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory.parent, prefix=".course-buildx-") as tmp:
        staged = _extract(deb, MEMBER, Path(tmp) / "docker-buildx")
        os.chmod(staged, 0o755)
        record = {
            "installed_by": "course kit (helpers/engine/buildx.py)",
            "plugin": str(target),
            "package": PACKAGE,
            "version": entry.version,
            "suite": SOURCE_SUITE,
            "source": f"{mirror.rstrip('/')}/{entry.filename}",
            "deb_sha256": entry.sha256,
            "binary_sha256": _sha256_file(staged),
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        os.replace(staged, target)  # same file system: the plugin appears whole or not at all
    (directory.parent / RECORD_NAME).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    log(f"buildx plugin {entry.version} installed at {target} (record: {directory.parent / RECORD_NAME}).")
    return target


def _dpkg_arch() -> str:
    """This host's Debian architecture (``amd64``, ``arm64``, ...)."""
    try:
        out = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SetupError("dpkg is not available: this is not a Debian host.", "Install buildx by hand.") from e
    return out.stdout.strip() or "amd64"


def share_user_plugins(config_dir: str | Path) -> None:
    """Let a throwaway ``DOCKER_CONFIG`` see the user's CLI plugins (a non-root install lives in
    ``~/.docker/cli-plugins``, which a client told to use another config directory would not read)."""
    user = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "cli-plugins"
    link = Path(config_dir) / "cli-plugins"
    if user.is_dir() and not link.exists() and link.parent.resolve() != user.parent.resolve():
        try:
            link.symlink_to(user, target_is_directory=True)
        except OSError:
            pass
