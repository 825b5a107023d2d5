"""The buildx plugin installer's logic with a fake archive: index parsing, sha256 checks, refusal of tampered files,
the signature check with a throwaway key, and where (and whether) the plugin is installed. No network, no engine."""

from __future__ import annotations

import hashlib
import json
import lzma
import shutil
import subprocess

import pytest

from helpers.engine import buildx, debarchive, env, shim
from helpers.engine.debarchive import fetch_package, find_package, http_fetch, release_sha256, verify_inrelease
from helpers.errors import SetupError
from helpers.images.builders import Builder

MIRROR = "http://mirror.example/debian"


def _stanza(name: str, arch: str, deb: bytes, filename: str = "") -> str:
    filename = filename or f"pool/main/d/{name}/{name}_1.0_{arch}.deb"
    return (
        f"Package: {name}\nVersion: 1.0\nArchitecture: {arch}\nDescription: x\n continued line\n"
        f"Filename: {filename}\nSize: {len(deb)}\nSHA256: {hashlib.sha256(deb).hexdigest()}\n"
    )


def _archive(deb: bytes, index_text: str | None = None) -> tuple[dict[str, bytes], str]:
    """A fake mirror (url -> bytes) and its InRelease text (unsigned: the tests stand in for gpgv)."""
    index_text = index_text or "\n".join(
        [
            _stanza("docker-buildx-doc", "all", b"doc"),
            _stanza("docker-buildx", "arm64", b"arm"),
            _stanza("docker-buildx", "amd64", deb),
        ]
    )
    packed = lzma.compress(index_text.encode())
    sha = hashlib.sha256(packed).hexdigest()
    release = (
        "Origin: Debian\nCodename: trixie\nAcquire-By-Hash: yes\nMD5Sum:\n"
        f" {'0' * 32} {len(packed)} main/binary-amd64/Packages.xz\nSHA256:\n"
        f" {'1' * 64} 99 main/binary-amd64/Packages\n {sha} {len(packed)} main/binary-amd64/Packages.xz\n"
    )
    files = {
        f"{MIRROR}/dists/trixie/InRelease": release.encode(),
        f"{MIRROR}/dists/trixie/main/binary-amd64/by-hash/SHA256/{sha}": packed,
        f"{MIRROR}/pool/main/d/docker-buildx/docker-buildx_1.0_amd64.deb": deb,
    }
    return files, release


@pytest.fixture
def unsigned(monkeypatch):
    """gpgv stood in for: the InRelease text is taken as verified (the signature has its own test below)."""
    monkeypatch.setattr(debarchive, "verify_inrelease", lambda data, keyring, suite: data.decode())


def _fetcher(files: dict[str, bytes], caps: dict[str, int] | None = None):
    def fetch(url: str, cap: int) -> bytes:
        if caps is not None:
            caps[url] = cap
        if url not in files:
            raise SetupError(f"404 {url}")
        return files[url]

    return fetch


def test_release_sha256_reads_only_the_sha256_field():
    """Are the SHA256 lines read (MD5Sum's and malformed ones ignored) with their sizes?"""
    text = "Codename: trixie\nMD5Sum:\n abc 5 main/x\nSHA256:\n " + "a" * 64 + " 12 main/x\n zz 3 main/y\nFoo: bar\n"
    assert release_sha256(text) == {"main/x": ("a" * 64, 12)}


def test_find_package_picks_the_hosts_architecture():
    """Is the amd64 stanza chosen among other architectures and similarly named packages?"""
    text = "\n".join(
        [
            _stanza("docker-buildx-doc", "all", b"d"),
            _stanza("docker-buildx", "arm64", b"a"),
            _stanza("docker-buildx", "amd64", b"deb"),
        ]
    )
    entry = find_package(text, "docker-buildx", "amd64")
    assert (entry.architecture, entry.size, entry.sha256) == ("amd64", 3, hashlib.sha256(b"deb").hexdigest())
    with pytest.raises(SetupError, match="lists no docker-buildx"):
        find_package(text, "docker-buildx", "riscv64")
    bad = _stanza("docker-buildx", "amd64", b"deb", filename="pool/../../etc/passwd")
    with pytest.raises(SetupError, match="malformed"):
        find_package(bad, "docker-buildx", "amd64")


def test_fetch_package_checks_each_step_and_bounds_each_download(unsigned):
    """Does a consistent archive give the .deb, fetched by hash, each download capped at its signed size?"""
    files, _ = _archive(b"the deb")
    caps: dict[str, int] = {}
    entry, deb = fetch_package(MIRROR, "trixie", "docker-buildx", "amd64", None, _fetcher(files, caps))
    assert deb == b"the deb" and entry.version == "1.0"
    assert [cap for url, cap in caps.items() if "by-hash" in url] == [
        len(files[next(u for u in files if "by-hash" in u)])
    ]
    assert caps[f"{MIRROR}/pool/main/d/docker-buildx/docker-buildx_1.0_amd64.deb"] == len(b"the deb")


def test_a_tampered_index_is_refused(unsigned):
    """Is an index that differs from the one the InRelease lists refused before it is read?"""
    files, _ = _archive(b"the deb")
    url = next(u for u in files if "by-hash" in u)
    files[url] = lzma.compress(_stanza("docker-buildx", "amd64", b"evil").encode())
    files[f"{MIRROR}/pool/main/d/docker-buildx/docker-buildx_1.0_amd64.deb"] = b"evil"  # what the forged index lists
    with pytest.raises(SetupError, match="Packages.xz does not match the signed index"):
        fetch_package(MIRROR, "trixie", "docker-buildx", "amd64", None, _fetcher(files))


def test_an_expired_inrelease_is_refused(unsigned):
    """Is a signed InRelease past its Valid-Until refused (an old file a mirror replays)?"""
    files, release = _archive(b"the deb")
    url = f"{MIRROR}/dists/trixie/InRelease"
    files[url] = release.replace(
        "Codename: trixie\n", "Codename: trixie\nValid-Until: Sat, 01 Jun 2024 00:00:00 UTC\n"
    ).encode()
    with pytest.raises(SetupError, match="expired"):
        fetch_package(MIRROR, "trixie", "docker-buildx", "amd64", None, _fetcher(files))
    files[url] = release.replace(
        "Codename: trixie\n", "Codename: trixie\nValid-Until: Sat, 01 Jun 2124 00:00:00 UTC\n"
    ).encode()
    assert fetch_package(MIRROR, "trixie", "docker-buildx", "amd64", None, _fetcher(files))[1] == b"the deb"


def test_a_tampered_deb_is_refused(unsigned):
    """Is a .deb whose sha256 differs from the index's refused?"""
    files, _ = _archive(b"the deb")
    files[f"{MIRROR}/pool/main/d/docker-buildx/docker-buildx_1.0_amd64.deb"] = b"the dEb"
    with pytest.raises(SetupError, match="does not match"):
        fetch_package(MIRROR, "trixie", "docker-buildx", "amd64", None, _fetcher(files))


def test_http_fetch_refuses_more_than_its_cap(tmp_path):
    """Does a download past its cap fail (file:// stands in for the mirror)?"""
    big = tmp_path / "big"
    big.write_bytes(b"x" * 5000)
    assert http_fetch(big.as_uri(), 5000) == b"x" * 5000
    with pytest.raises(SetupError, match="more than"):
        http_fetch(big.as_uri(), 4999)


@pytest.fixture(scope="module")
def signing(tmp_path_factory):
    """Two throwaway signing keys, one named like Debian 13's archive key, one like Debian 12's."""
    if not shutil.which("gpg"):
        pytest.skip("gpg (Debian's gnupg) is needed to make a test signature")
    home = tmp_path_factory.mktemp("gnupg")
    for release in ("13/trixie", "12/bookworm"):
        uid = f"Test Archive Automatic Signing Key ({release}) <test@example.org>"
        gen = ["--quick-gen-key", uid, "ed25519", "sign", "never"]
        subprocess.run(
            ["gpg", "--homedir", str(home), "--batch", "--passphrase", "", *gen], check=True, capture_output=True
        )
    return home


def _sign_and_keyring(home, tmp_path, text: str, release: str):
    gpg = ["gpg", "--homedir", str(home), "--batch"]
    signed = subprocess.run(
        [*gpg, "--local-user", release, "--clearsign"], input=text.encode(), capture_output=True, check=True
    )
    keyring = tmp_path / f"{release.replace('/', '-')}.gpg"
    keyring.write_bytes(subprocess.run([*gpg, "--export", release], capture_output=True, check=True).stdout)
    return signed.stdout, keyring


def test_inrelease_signature_key_and_release_are_checked(signing, tmp_path):
    """Does gpgv's verdict decide: the signed text is returned, a changed one refused, another release's key
    refused with a hint about the keyring, another release's file refused?"""
    text = "Origin: Debian\nCodename: trixie\nSHA256:\n " + "a" * 64 + " 1 main/x\n"
    data, keyring = _sign_and_keyring(signing, tmp_path, text, "13/trixie")
    assert "Codename: trixie" in verify_inrelease(data, keyring, "trixie")
    tampered = data.replace(b"a" * 64, b"b" * 64)
    with pytest.raises(SetupError, match="does not verify"):
        verify_inrelease(tampered, keyring, "trixie")
    old, old_keyring = _sign_and_keyring(signing, tmp_path, text, "12/bookworm")
    with pytest.raises(SetupError, match="holds no key") as e:
        verify_inrelease(old, old_keyring, "trixie")
    assert "debian-archive-keyring" in e.value.hint
    other, _ = _sign_and_keyring(signing, tmp_path, text.replace("trixie", "forky"), "13/trixie")
    with pytest.raises(SetupError, match="another release"):
        verify_inrelease(other, keyring, "trixie")


def _deb_with_plugin(tmp_path) -> bytes:
    root = tmp_path / "debroot"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN/control").write_text(
        "Package: docker-buildx\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t\nDescription: t\n"
    )
    plugin = root / buildx.MEMBER
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\necho 'github.com/docker/buildx fake'\n")
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-b", str(root), str(tmp_path / "p.deb")], check=True, capture_output=True
    )
    return (tmp_path / "p.deb").read_bytes()


def test_install_puts_only_the_binary_and_a_record_and_never_replaces_a_strangers_plugin(tmp_path, unsigned):
    """Is the binary installed executable with the kit's record, recognised as the kit's until it changes, and is a
    plugin the kit did not install left alone?"""
    if not shutil.which("dpkg-deb"):
        pytest.skip("dpkg-deb is Debian's")
    files, _ = _archive(_deb_with_plugin(tmp_path))
    plugins = tmp_path / "docker" / "cli-plugins"
    etc_apt = tmp_path / "apt"
    (etc_apt / "sources.list.d").mkdir(parents=True)
    (etc_apt / "sources.list").write_text(f"deb {MIRROR} bookworm main\n")
    keyring = tmp_path / "keyring.gpg"  # read by gpgv only, which the fixture stands in for
    keyring.write_bytes(b"")
    kw = {"etc_apt": etc_apt, "keyring": keyring, "fetch": _fetcher(files), "arch": "amd64"}
    target = buildx.install_buildx_plugin(lambda m: None, plugins, **kw)
    assert sorted(p.name for p in plugins.iterdir()) == ["docker-buildx"]
    assert subprocess.run([target], capture_output=True, text=True).stdout.startswith("github.com/docker/buildx")
    record = json.loads((plugins.parent / buildx.RECORD_NAME).read_text())
    assert record["source"].startswith(MIRROR) and buildx.kit_record(plugins) == record
    target.write_text("#!/bin/sh\necho someone else's\n")
    assert buildx.kit_record(plugins) is None
    with pytest.raises(SetupError, match="did not install it"):
        buildx.install_buildx_plugin(lambda m: None, plugins, **kw)
    assert "someone else" in target.read_text()


def test_only_on_debian_12_and_only_when_buildx_is_missing(tmp_path, monkeypatch):
    """Is nothing done off Debian 12, or where `docker buildx version` works?"""
    for text, expected in (
        ('ID=debian\nVERSION_ID="12"\n', True),
        ('ID=debian\nVERSION_ID="13"\n', False),
        ("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=12\n", False),
    ):
        (tmp_path / "os-release").write_text(text)
        assert buildx.is_debian_12(tmp_path / "os-release") is expected
    called = []
    monkeypatch.setattr(buildx, "install_buildx_plugin", lambda *a, **k: called.append(1))
    monkeypatch.setattr(buildx, "is_debian_12", lambda: True)
    monkeypatch.setattr(buildx, "buildx_version", lambda: "github.com/docker/buildx v0.20.0")
    assert buildx.ensure_buildx_plugin(lambda m: None) is None and called == []
    monkeypatch.setattr(buildx, "buildx_version", lambda: "")
    buildx.ensure_buildx_plugin(lambda m: None)
    monkeypatch.setattr(buildx, "is_debian_12", lambda: False)
    buildx.ensure_buildx_plugin(lambda m: None)
    assert called == [1]


def test_shim_prefers_the_newest_buildx_client_and_keeps_buildkit_for_an_old_one(tmp_path, monkeypatch):
    """With buildx beside both clients, is the 23+ one launched (the same whatever PATH's order), and does a pre-23
    client with buildx still get DOCKER_BUILDKIT=1 for its plain `docker build`?"""
    majors = {"/usr/bin/docker": 20, "/usr/local/bin/docker": 28}
    monkeypatch.setattr(shim, "_works", lambda cmd: True)
    monkeypatch.setattr(shim, "_client_major", lambda cli: majors[cli])
    for order in (list(majors), list(reversed(majors))):
        monkeypatch.setattr(shim, "_candidates", lambda order=order: order)
        assert shim.choose_cli() == Builder("buildx", "/usr/local/bin/docker")
    assert "DOCKER_BUILDKIT" in shim.shim_text(Builder("buildx", "/usr/bin/docker"), None, classic=True)
    assert "DOCKER_BUILDKIT" not in shim.shim_text(Builder("buildx", "/usr/local/bin/docker"), None, classic=False)


def test_a_throwaway_docker_config_sees_the_users_plugins(tmp_path, monkeypatch):
    """Does a build's own DOCKER_CONFIG (registry credentials for cache import) still find a per-user plugin?"""
    user = tmp_path / "home-docker"
    (user / "cli-plugins").mkdir(parents=True)
    monkeypatch.setenv("DOCKER_CONFIG", str(user))
    throwaway = tmp_path / "throwaway"
    throwaway.mkdir()
    buildx.share_user_plugins(throwaway)
    assert (throwaway / "cli-plugins").resolve() == (user / "cli-plugins").resolve()
    buildx.share_user_plugins(user)  # its own directory: nothing to link
    assert not (user / "cli-plugins").is_symlink()


def test_env_up_warns_and_goes_on_when_the_plugin_cannot_be_installed(monkeypatch):
    """Is a failed install a warning with the error's hint (builds still have BuildKit through the 20.10 client)?"""

    def fail(log):
        raise SetupError("The Debian archive's InRelease for trixie does not verify.", "Try another mirror.")

    monkeypatch.setattr(env, "ensure_buildx_plugin", fail)
    lines: list[str] = []
    env._install_buildx(lines.append)
    assert lines == [
        "Warning: no buildx plugin installed: "
        + "The Debian archive's InRelease for trixie does not verify. Try another mirror."
    ]
