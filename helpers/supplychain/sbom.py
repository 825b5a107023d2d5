"""Software bill of materials: what is installed in an image, and which layer put it there.

Reads the image's layers (from the engine through ``docker save``, or from an archive on
disk) and collects OS packages (dpkg ``status`` and ``status.d/``, apk ``installed``) and
Python distributions (``*.dist-info/METADATA``, ``*.egg-info``). Whiteouts are honoured, so a
package removed by a later layer is not reported. CycloneDX JSON comes from
cyclonedx-python-lib.
"""

from __future__ import annotations

import json
import os
import re
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from email.parser import Parser
from pathlib import Path, PurePosixPath
from typing import IO, Any

from helpers.engine.client import get_client
from helpers.errors import ImageNotFound, NotAnImageArchive

__all__ = [
    "Package",
    "Layer",
    "Sbom",
    "sbom",
    "image_sbom",
    "read_sbom_archive",
    "parse_dpkg_status",
    "parse_apk_installed",
]

_DIST = re.compile(r"(?:^|/)(?:site|dist)-packages/([^/]+)\.(dist-info|egg-info)(?:/(METADATA|PKG-INFO))?$")


@dataclass
class Package:
    """One installed package.

    Attributes:
        name: Package name (binary package for dpkg).
        version: Installed version.
        type: "deb", "apk" or "pypi".
        source: Source package name (dpkg/apk origin; what Debian advisories name).
        source_version: Source package version.
        layer: 0-based index of the layer that added this version.
        layer_digest: That layer's diff id.
        created_by: The Dockerfile instruction that made that layer.
        location: Where the metadata lives in the image.
    """

    name: str
    version: str
    type: str
    source: str = ""
    source_version: str = ""
    layer: int = -1
    layer_digest: str = ""
    created_by: str = ""
    location: str = ""

    @property
    def purl(self) -> str:
        if self.type == "pypi":
            return f"pkg:pypi/{self.name.lower().replace('_', '-')}@{self.version}"
        return f"pkg:{self.type}/{self.name}@{self.version}"


@dataclass
class Layer:
    index: int
    digest: str
    created_by: str
    size: int


@dataclass
class Sbom:
    """The bill of materials of one image.

    Attributes:
        image: The reference or archive it was read from.
        os: ``{"id": "debian", "version_id": "12", ...}`` from ``/etc/os-release`` ({} if none).
        packages: Installed packages.
        layers: The image's layers, oldest first.
    """

    image: str
    os: dict[str, str] = field(default_factory=dict)
    packages: list[Package] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)

    @property
    def os_ecosystem(self) -> str:
        """The OSV ecosystem of the OS packages, e.g. ``Debian:12`` ("" when unknown)."""
        osid, ver = self.os.get("id", ""), self.os.get("version_id", "")
        if osid == "debian" and ver:
            return f"Debian:{ver.split('.')[0]}"
        if osid == "alpine" and ver:
            return "Alpine:v" + ".".join(ver.split(".")[:2])
        return ""

    def to_frame(self) -> Any:
        """The packages as a DataFrame (name, version, type, source, layer, created_by, ...)."""
        import pandas as pd

        cols = list(Package.__dataclass_fields__)
        return pd.DataFrame([asdict(p) for p in self.packages], columns=cols)

    def _purl(self, p: Package, cls: Any) -> Any:
        if p.type == "pypi":
            return cls(type="pypi", name=p.name.lower().replace("_", "-"), version=p.version)
        osid, ver = self.os.get("id") or None, self.os.get("version_id", "")
        quals = {"distro": f"{osid}-{ver}"} if osid and ver else None
        return cls(type=p.type, namespace=osid, name=p.name, version=p.version, qualifiers=quals)

    def to_cyclonedx(self) -> str:
        """The bill of materials as CycloneDX JSON (spec 1.6), made by cyclonedx-python-lib."""
        from cyclonedx.model import Property
        from cyclonedx.model.bom import Bom
        from cyclonedx.model.component import Component, ComponentType
        from cyclonedx.output.json import JsonV1Dot6
        from packageurl import PackageURL

        bom = Bom()
        root = Component(name=self.image, type=ComponentType.CONTAINER, bom_ref=f"image:{self.image}")
        bom.metadata.component = root
        parts = []
        for p in self.packages:
            props = [
                Property(name="org.dockercourse:layer", value=str(p.layer)),
                Property(name="org.dockercourse:layer_digest", value=p.layer_digest),
            ]
            if p.source:
                props.append(Property(name="org.dockercourse:source_package", value=p.source))
            comp = Component(
                name=p.name,
                version=p.version,
                type=ComponentType.LIBRARY,
                purl=self._purl(p, PackageURL),
                bom_ref=f"{p.type}:{p.name}@{p.version}:{p.location}",
                properties=props,
            )
            bom.components.add(comp)
            parts.append(comp)
        bom.register_dependency(root, parts)
        return JsonV1Dot6(bom).output_as_string(indent=2)


def parse_dpkg_status(text: str) -> list[dict[str, str]]:
    """Parse a dpkg ``status`` file into stanzas of installed packages."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                continue
            k, _, v = line.partition(":")
            key = k.strip()
            fields[key] = v.strip()
        if "Package" in fields and "installed" in fields.get("Status", "install ok installed"):
            src = fields.get("Source", fields["Package"])
            m = re.match(r"(\S+)(?:\s+\((.+)\))?", src)
            fields["_source"] = m.group(1) if m else fields["Package"]
            fields["_source_version"] = m.group(2) if m and m.group(2) else fields.get("Version", "")
            out.append(fields)
    return out


def parse_apk_installed(text: str) -> list[dict[str, str]]:
    """Parse Alpine's ``lib/apk/db/installed`` (P: name, V: version, o: origin)."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        f = {ln[0]: ln[2:] for ln in block.splitlines() if len(ln) > 2 and ln[1] == ":"}
        if "P" in f and "V" in f:
            out.append(f)
    return out


def _norm(name: str) -> str:
    return name[2:] if name.startswith("./") else name.lstrip("/")


@contextmanager
def _saved(image: str, client: Any) -> Iterator[Path]:
    client = get_client(client)
    from docker.errors import ImageNotFound as _NF

    try:
        img = client.images.get(image)
    except _NF as e:
        raise ImageNotFound(image) from e
    with tempfile.TemporaryDirectory(prefix="course-sbom-") as tmp:
        path = Path(tmp) / "image.tar"
        with open(path, "wb") as fh:
            for chunk in img.save(named=False):
                fh.write(chunk)
        yield path


def sbom(source: str | os.PathLike[str], client: Any = None) -> Sbom:
    """Bill of materials of an image on the engine or of an image archive on disk.

    Args:
        source: An image reference, or the path of a ``docker save`` archive.
        client: docker-py client (engine sources only).

    Raises:
        ImageNotFound: No such image on the engine.
        NotAnImageArchive: The file is not an image archive.
        EngineUnavailable: A reference was given and no engine answers.
    """
    if Path(source).is_file():
        return read_sbom_archive(source)
    with _saved(str(source), client) as path:
        result = read_sbom_archive(path)
    result.image = str(source)
    return result


#: The same function under a name that does not clash with the module (``from helpers import image_sbom``).
image_sbom = sbom


def _layers(tar: tarfile.TarFile, path: str) -> tuple[list[str], dict[str, Any]]:
    try:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        entry = manifest[0]
        config = json.load(tar.extractfile(entry["Config"]))  # type: ignore[arg-type]
        return list(entry["Layers"]), config
    except (KeyError, IndexError, TypeError, json.JSONDecodeError) as e:
        raise NotAnImageArchive(path, "no readable manifest.json") from e


def read_sbom_archive(path: str | os.PathLike[str]) -> Sbom:
    """Bill of materials of a ``docker save`` archive (Docker or OCI layout with manifest.json)."""
    path = str(path)
    try:
        outer = tarfile.open(path)
    except (tarfile.TarError, OSError) as e:
        raise NotAnImageArchive(path, str(e)) from e
    with outer:
        layer_files, config = _layers(outer, path)
        history = [h for h in config.get("history", []) if not h.get("empty_layer")]
        diff_ids = config.get("rootfs", {}).get("diff_ids", [])
        result = Sbom(image=path)
        deb_seen: dict[tuple[str, str], int] = {}
        apk_seen: dict[tuple[str, str], int] = {}
        dpkg_status: list[dict[str, str]] = []
        statusd: dict[str, list[dict[str, str]]] = {}
        apk: list[dict[str, str]] = []
        dists: dict[str, tuple[Package, int]] = {}
        for i, lf in enumerate(layer_files):
            member = outer.extractfile(lf)
            if member is None:
                raise NotAnImageArchive(path, f"layer {lf} missing")
            created = history[i].get("created_by", "") if i < len(history) else ""
            digest = diff_ids[i] if i < len(diff_ids) else lf
            size = outer.getmember(lf).size
            result.layers.append(Layer(i, digest, created, size))
            with tarfile.open(fileobj=member, mode="r|*") as layer:
                for m in layer:
                    name = _norm(m.name)
                    base = PurePosixPath(name).name
                    parent = str(PurePosixPath(name).parent)
                    if base.startswith(".wh."):
                        gone = parent if base == ".wh..wh..opq" else f"{parent}/{base[4:]}"
                        for key in [k for k in dists if k == gone or k.startswith(gone + "/")]:
                            del dists[key]
                        for key in [k for k in statusd if k == gone or k.startswith(gone + "/")]:
                            del statusd[key]
                        continue
                    if not m.isfile():
                        continue
                    if name == "etc/os-release" or (name == "usr/lib/os-release" and not result.os):
                        result.os = _os_release(_read(layer, m))
                    elif name == "var/lib/dpkg/status":
                        dpkg_status = parse_dpkg_status(_read(layer, m))
                        for st in dpkg_status:
                            deb_seen.setdefault((st["Package"], st.get("Version", "")), i)
                    elif name.startswith("var/lib/dpkg/status.d/") and not base.endswith(".md5sums"):
                        statusd[name] = parse_dpkg_status(_read(layer, m))
                        for st in statusd[name]:
                            deb_seen.setdefault((st["Package"], st.get("Version", "")), i)
                    elif name == "lib/apk/db/installed":
                        apk = parse_apk_installed(_read(layer, m))
                        for st in apk:
                            apk_seen.setdefault((st["P"], st["V"]), i)
                    elif mm := _DIST.search(name):
                        if mm.group(2) == "dist-info" and mm.group(3) != "METADATA":
                            continue
                        meta = Parser().parsestr(_read(layer, m), headersonly=True)
                        if meta.get("Name") and meta.get("Version"):
                            key = name.rsplit("/", 1)[0] if mm.group(3) else name
                            dists[key] = (Package(meta["Name"], meta["Version"], "pypi", location=name), i)
        rows: list[tuple[Package, int]] = []
        for st in dpkg_status + [s for v in statusd.values() for s in v]:
            key = (st["Package"], st.get("Version", ""))
            rows.append(
                (
                    Package(
                        st["Package"],
                        st.get("Version", ""),
                        "deb",
                        st["_source"],
                        st["_source_version"],
                        location="var/lib/dpkg/status",
                    ),
                    deb_seen.get(key, -1),
                )
            )
        for st in apk:
            rows.append(
                (
                    Package(st["P"], st["V"], "apk", st.get("o", st["P"]), st["V"], location="lib/apk/db/installed"),
                    apk_seen.get((st["P"], st["V"]), -1),
                )
            )
        rows.extend(dists.values())
        for pkg, layer_index in rows:
            pkg.layer = layer_index
            if 0 <= layer_index < len(result.layers):
                pkg.layer_digest = result.layers[layer_index].digest
                pkg.created_by = result.layers[layer_index].created_by
            result.packages.append(pkg)
        return result


def _read(layer: tarfile.TarFile, m: tarfile.TarInfo) -> str:
    fh: IO[bytes] | None = layer.extractfile(m)
    return fh.read().decode("utf-8", "replace") if fh else ""


def _os_release(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition("=")
        if k:
            out[k.strip().lower()] = v.strip().strip('"')
    return out
