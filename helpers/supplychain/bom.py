"""The bill of materials of an image: its packages, the layer each came from, and CycloneDX output.

The data model of :mod:`helpers.supplychain.sbom` (which fills it from an image archive), kept
apart so that the package-database parsers (:mod:`helpers.supplychain.pkgdb`), the scanner
and the remediation lab can use it without the archive reading.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Package", "Layer", "Sbom"]


def _kinds(packages: list[Package]) -> str:
    """``binary x3, go-module x1``: the types of ``packages`` with their counts."""
    counts: dict[str, int] = {}
    for p in packages:
        counts[p.type] = counts.get(p.type, 0) + 1
    return ", ".join(f"{k} x{n}" for k, n in sorted(counts.items()))


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
        """The package URL (``pkg:deb/libc6@2.36-9``), what scanners and advisories name."""
        if self.type == "pypi":
            return f"pkg:pypi/{self.name.lower().replace('_', '-')}@{self.version}"
        return f"pkg:{self.type}/{self.name}@{self.version}"


@dataclass
class Layer:
    """One layer of the image: its position, diff id, the instruction that made it, its stored size."""

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
        tool: What read it: ``"syft 1.18.1"``, or ``"the kit's reader"``.
        other: Packages of types the kit's model has not (syft's binaries, Go modules ...); not scanned.
    """

    image: str
    os: dict[str, str] = field(default_factory=dict)
    packages: list[Package] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)
    tool: str = "the kit's reader"
    other: list[Package] = field(default_factory=list)

    def describe(self) -> str:
        """One line: how many packages, of which image, read by which tool."""
        extra = f" (and {len(self.other)} of other types: {_kinds(self.other)})" if self.other else ""
        return f"{len(self.packages)} packages in {self.image}{extra}; read by {self.tool}"

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
        bom.metadata.properties.add(Property(name="org.dockercourse:read_by", value=self.tool))
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
