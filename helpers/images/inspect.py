"""Facts about built images: size, layers, user, entrypoint/cmd, ports, env, healthcheck, base.

:func:`inspect_image` reads one image from the engine into an :class:`ImageFacts`,
:func:`facts_from_archive` from a ``docker save`` archive (no engine), :func:`image_facts`
from either; :func:`compare_images` puts several side by side in a pandas DataFrame. The pure
part (:func:`facts_from_attrs`) works on the engine's JSON, so it is testable without an engine.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from helpers.archive.images import is_archive, layer_sizes
from helpers.archive.reader import read_archive
from helpers.engine.baseimages import FAMILIES, OFFICIAL
from helpers.engine.client import get_client
from helpers.errors import ImageNotFound
from helpers.supplychain.sbom import sbom

__all__ = [
    "Layer",
    "ImageFacts",
    "inspect_image",
    "compare_images",
    "facts_from_attrs",
    "secret_like_env",
    "layers_frame",
    "facts_from_archive",
    "image_facts",
]

_SHELL = ("/bin/sh", "-c")
_SECRET = re.compile(r"(PASSW(OR)?D|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)


@dataclass
class Layer:
    """One history entry of an image (``docker history``): empty ones are metadata only."""

    created_by: str
    size: int

    @property
    def empty(self) -> bool:
        return self.size == 0


@dataclass
class ImageFacts:
    """What ``docker inspect`` and ``docker history`` say about an image."""

    ref: str
    id: str
    size: int
    layers: list[Layer] = field(default_factory=list)
    fs_layers: int = 0
    user: str = ""
    workdir: str = ""
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    exposed_ports: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    healthcheck: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    base: str = ""

    @property
    def size_mb(self) -> float:
        return round(self.size / 1e6, 1)

    @property
    def runs_as_root(self) -> bool:
        """True when no USER is set, or it is root / uid 0."""
        return self.user.split(":")[0] in {"", "root", "0"}

    @property
    def exec_form(self) -> bool:
        """True when the command (ENTRYPOINT, else CMD) is in exec (JSON) form, not ``/bin/sh -c``."""
        first = self.entrypoint or self.cmd
        return bool(first) and tuple(first[:2]) != _SHELL

    @property
    def command(self) -> list[str]:
        """What the container runs: ENTRYPOINT + CMD."""
        return self.entrypoint + self.cmd


def facts_from_attrs(
    attrs: Mapping[str, Any], history: Sequence[Mapping[str, Any]], ref: str = "", base: str = ""
) -> ImageFacts:
    """Build :class:`ImageFacts` from ``docker inspect`` JSON and ``docker history`` entries."""
    cfg = attrs.get("Config") or {}
    env = dict(e.split("=", 1) if "=" in e else (e, "") for e in cfg.get("Env") or [])
    health = (cfg.get("Healthcheck") or {}).get("Test") or []
    return ImageFacts(
        ref=ref or ((attrs.get("RepoTags") or [""])[0]) or attrs.get("Id", "")[:19],
        id=attrs.get("Id", ""),
        size=int(attrs.get("Size", 0)),
        layers=[Layer(str(h.get("CreatedBy", "")), int(h.get("Size", 0))) for h in reversed(list(history))],
        fs_layers=len((attrs.get("RootFS") or {}).get("Layers") or []),
        user=cfg.get("User") or "",
        workdir=cfg.get("WorkingDir") or "",
        entrypoint=list(cfg.get("Entrypoint") or []),
        cmd=list(cfg.get("Cmd") or []),
        exposed_ports=sorted(cfg.get("ExposedPorts") or {}),
        env=env,
        healthcheck=[] if health[:1] == ["NONE"] else list(health),
        labels=dict(cfg.get("Labels") or {}),
        base=base,
    )


def secret_like_env(facts: ImageFacts) -> list[str]:
    """Names of ENV variables that look like secrets (they end up in every copy of the image)."""
    return sorted(k for k, v in facts.env.items() if _SECRET.search(k) and v)


def inspect_image(ref: str, client: Any = None) -> ImageFacts:
    """Read an image's facts from the engine.

    Args:
        ref: Image reference or id.
        client: docker-py client (connects lazily).

    Raises:
        ImageNotFound: The engine has no such image.
    """
    from docker.errors import ImageNotFound as _NF

    c = get_client(client)
    try:
        img = c.images.get(ref)
    except _NF as e:
        raise ImageNotFound(ref) from e
    return facts_from_attrs(img.attrs, img.history(), ref=ref, base=_base_of(c, img.attrs))


def facts_from_archive(path: str | os.PathLike[str], ref: str = "") -> ImageFacts:
    """Read an image's facts from a ``docker save`` archive or OCI layout (no engine; ``base`` stays empty).

    The size is the bytes of its layers' files (the engine's figure, give or take metadata); the
    id is the config digest, as on the engine.

    Args:
        path: The archive.
        ref: Name to show (default: the tag recorded in the archive, else the path).

    Raises:
        NotAnImageArchive: The file is not an image archive.
    """

    archive = read_archive(path)
    sizes = iter(layer_sizes(archive))
    history = [
        {"CreatedBy": h.get("created_by", ""), "Size": 0 if h.get("empty_layer") else next(sizes, 0)}
        for h in archive.config.get("history") or []
    ]
    attrs = {
        "Id": archive.image_id,
        "Config": archive.config.get("config") or {},
        "Size": sum(layer_sizes(archive)),
        "RootFS": {"Layers": archive.diff_ids},
        "RepoTags": archive.tags,
    }
    return facts_from_attrs(
        attrs, list(reversed(history)), ref=ref or (archive.tags[0] if archive.tags else os.fspath(path))
    )


def image_facts(source: str | os.PathLike[str], client: Any = None) -> ImageFacts:
    """:func:`facts_from_archive` for an archive path, else :func:`inspect_image` for a reference."""

    return facts_from_archive(source) if is_archive(source) else inspect_image(str(source), client)


def _base_of(client: Any, attrs: Mapping[str, Any]) -> str:
    """The known base image whose layers start this image's layers (longest match wins)."""
    from docker.errors import ImageNotFound as _NF

    mine = (attrs.get("RootFS") or {}).get("Layers") or []
    best, best_len = "", 0
    for cand in list(OFFICIAL.values()) + [ref for family in FAMILIES.values() for ref in family.values()]:
        try:
            theirs = (client.images.get(cand).attrs.get("RootFS") or {}).get("Layers") or []
        except _NF:
            continue
        if best_len < len(theirs) <= len(mine) and mine[: len(theirs)] == theirs:
            best, best_len = cand, len(theirs)
    return best


def compare_images(images: Mapping[str, str] | Sequence[str], client: Any = None, packages: bool = False) -> Any:
    """Several images side by side.

    Args:
        images: References or archive paths, or a mapping label -> either (the label names the row).
        client: docker-py client (connects lazily; not needed for archives).
        packages: Add ``packages``, the number of installed packages (from the bill of materials).

    Returns:
        A pandas DataFrame indexed by label with size_mb, layers (with content), user, cmd,
        exposed_ports, healthcheck, base, and size_vs_first (size / size of the first row).
    """
    import pandas as pd

    named = dict(images) if isinstance(images, Mapping) else {r: r for r in images}
    rows = []
    for label, ref in named.items():
        f = image_facts(ref, client)
        rows.append(
            {
                "image": label,
                "size_mb": f.size_mb,
                "layers": f.fs_layers,
                "user": f.user or "root",
                "cmd": " ".join(f.command),
                "exec_form": f.exec_form,
                "exposed_ports": ", ".join(f.exposed_ports),
                "healthcheck": bool(f.healthcheck),
                "base": f.base,
            }
        )
        if packages:
            rows[-1]["packages"] = len(sbom(ref, client).packages)
    df = pd.DataFrame(rows).set_index("image")
    if len(df):
        df["size_vs_first"] = (df["size_mb"] / df["size_mb"].iloc[0]).round(2)
    return df


def layers_frame(facts: ImageFacts) -> Any:
    """The image history as a DataFrame (oldest first): created_by (shortened), size_mb, empty."""
    import pandas as pd

    rows = [
        {"created_by": _short(layer.created_by), "size_mb": round(layer.size / 1e6, 2), "empty": layer.empty}
        for layer in facts.layers
    ]
    return pd.DataFrame(rows, columns=["created_by", "size_mb", "empty"])


def _short(created_by: str, width: int = 70) -> str:
    text = re.sub(r"^/bin/sh -c #\(nop\)\s*", "", created_by)
    text = re.sub(r"^/bin/sh -c ", "RUN ", text)
    text = re.sub(r"^RUN \|\d+ ([^\s=]+=\S* )+", "RUN ", text)  # a name has no `=`: linear, not quadratic
    text = re.sub(r"^RUN /bin/sh -c ", "RUN ", text)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
