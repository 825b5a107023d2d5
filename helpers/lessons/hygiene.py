"""Disk hygiene: what ``docker system df`` shows, what ``docker system prune`` would remove
(computed, never run), and the kit's own cleanup that removes only what the course created.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from helpers.engine.client import LABEL, ROLE_LABEL, SESSION_LABEL, cleanup, get_client, kit_labels
from helpers.lessons.common import ROLE, lesson_image

__all__ = ["system_df", "prune_preview", "prune_summary", "DemoLeftovers", "make_leftovers"]

_DEFAULT_NETWORKS = {"bridge", "host", "none"}


def system_df(client: Any = None) -> Any:
    """``docker system df`` as a DataFrame: type, total, active, size_mb, reclaimable_mb.

    Computed from the same API call the CLI makes (``GET /system/df``) with the CLI's rules.
    """
    import pandas as pd

    d = get_client(client).df()
    images = d.get("Images") or []
    containers = d.get("Containers") or []
    volumes = d.get("Volumes") or []
    cache = d.get("BuildCache") or []
    img_used = sum(
        i["Size"] - i.get("SharedSize", 0)
        for i in images
        if i.get("Containers", 0) > 0 and i.get("SharedSize", -1) != -1
    )
    img_size = int(d.get("LayersSize", 0))
    ctr_size = sum(int(c.get("SizeRw", 0) or 0) for c in containers)
    ctr_recl = sum(int(c.get("SizeRw", 0) or 0) for c in containers if c.get("State") != "running")
    vol_sizes = [
        (int((v.get("UsageData") or {}).get("Size", 0)), int((v.get("UsageData") or {}).get("RefCount", 0)))
        for v in volumes
    ]
    cache_size = sum(int(b.get("Size", 0)) for b in cache if not b.get("Shared"))
    cache_recl = sum(int(b.get("Size", 0)) for b in cache if not b.get("Shared") and not b.get("InUse"))
    rows = [
        ("Images", len(images), sum(1 for i in images if i.get("Containers", 0) > 0), img_size, img_size - img_used),
        ("Containers", len(containers), sum(1 for c in containers if c.get("State") == "running"), ctr_size, ctr_recl),
        (
            "Local Volumes",
            len(volumes),
            sum(1 for _, r in vol_sizes if r > 0),
            sum(max(s, 0) for s, _ in vol_sizes),
            sum(max(s, 0) for s, r in vol_sizes if r == 0),
        ),
        ("Build Cache", len(cache), sum(1 for b in cache if b.get("InUse")), cache_size, cache_recl),
    ]
    return pd.DataFrame(
        [
            {
                "type": t,
                "total": n,
                "active": a,
                "size_mb": round(s / 1e6, 1),
                "reclaimable_mb": round(max(r, 0) / 1e6, 1),
            }
            for t, n, a, s, r in rows
        ],
        columns=["type", "total", "active", "size_mb", "reclaimable_mb"],
    )


def _kit(labels: dict[str, str] | None) -> bool:
    return (labels or {}).get(LABEL) == "true"


def prune_preview(client: Any = None, session: str | None = None) -> Any:
    """What each cleanup would remove, resource by resource, without removing anything.

    Columns: kind, name, kit (created by the kit), ``prune`` (``docker system prune``),
    ``prune -a --volumes`` and ``kit cleanup`` (``helpers.cleanup(session=session)``, dry run).

    Args:
        client: docker-py client (connects lazily).
        session: The session the kit cleanup is limited to (``None``: every session).

    Returns:
        A DataFrame, one row per resource (and one for the build cache).
    """
    import pandas as pd

    c = get_client(client)
    kit = cleanup(c, session=session, dry_run=True)
    kit_names = (
        {("container", n) for n in kit.containers}
        | {("image", n) for n in kit.images}
        | {("volume", n) for n in kit.volumes}
        | {("network", n) for n in kit.networks}
    )
    containers = c.containers.list(all=True)
    rows = _container_rows(containers) + _image_rows(c, containers) + _volume_rows(c, containers)
    rows += _network_rows(c) + _cache_rows(c)
    for r in rows:
        r["kit cleanup"] = (r["kind"], r["name"]) in kit_names
    return pd.DataFrame(rows, columns=["kind", "name", "kit", "prune", "prune -a --volumes", "kit cleanup"])


def _row(kind: str, name: str, labels: Any, prune: bool, prune_all: bool) -> dict[str, Any]:
    """One resource: would ``docker system prune`` and ``prune -a --volumes`` remove it?"""
    return {"kind": kind, "name": name, "kit": _kit(labels), "prune": prune, "prune -a --volumes": prune_all}


def _container_rows(containers: list[Any]) -> list[dict[str, Any]]:
    """Both prunes remove stopped containers."""
    return [_row("container", ct.name, ct.labels, ct.status != "running", ct.status != "running") for ct in containers]


def _image_rows(c: Any, containers: list[Any]) -> list[dict[str, Any]]:
    """``prune`` removes untagged unused images; ``prune -a`` every image no running container uses."""
    running_images = {ct.attrs.get("Image") for ct in containers if ct.status == "running"}
    rows = []
    for img in c.api.images():  # one listing call: an image removed meanwhile (by another process) is not an error
        tags = [t for t in img.get("RepoTags") or [] if t != "<none>:<none>"]
        unused = img["Id"] not in running_images
        rows.append(_row("image", tags[0] if tags else img["Id"][:19], img.get("Labels"), unused and not tags, unused))
    return rows


def _volume_rows(c: Any, containers: list[Any]) -> list[dict[str, Any]]:
    """Only ``prune --volumes`` removes volumes, and only those no container mounts: every such volume up to Engine
    22 (API 1.41), only anonymous ones from Engine 23.0 (API 1.42; named ones need ``docker volume prune --all``)."""
    used = {m.get("Name") for ct in containers for m in ct.attrs.get("Mounts", []) if m.get("Name")}
    named_kept = _api_at_least(c, 1, 42)
    rows = []
    for v in c.volumes.list():
        labels = v.attrs.get("Labels") or {}
        gone = v.name not in used and not (named_kept and _ANONYMOUS not in labels)
        rows.append(_row("volume", v.name, labels, False, gone))
    return rows


#: The label Engine 23.0+ puts on anonymous volumes; ``volume prune`` without ``--all`` removes only these.
_ANONYMOUS = "com.docker.volume.anonymous"


def _api_at_least(c: Any, major: int, minor: int) -> bool:
    """Does the engine speak API ``major.minor`` or newer? (An unreadable version counts as older.)"""
    try:
        got = tuple(int(x) for x in str(c.version().get("ApiVersion", "0.0")).split(".")[:2])
    except (ValueError, AttributeError):
        return False
    return got >= (major, minor)


def _network_rows(c: Any) -> list[dict[str, Any]]:
    """Both prunes remove user networks no container is attached to (never bridge, host, none)."""
    rows = []
    for net in c.networks.list():
        if net.name in _DEFAULT_NETWORKS:
            continue
        empty = not (net.attrs.get("Containers") or c.networks.get(net.id).attrs.get("Containers"))
        rows.append(_row("network", net.name, net.attrs.get("Labels"), empty, empty))
    return rows


def _cache_rows(c: Any) -> list[dict[str, Any]]:
    """One row for the build cache: both prunes remove the records no build uses."""
    cache = c.df().get("BuildCache") or []
    if not cache:
        return []
    idle = [b for b in cache if not b.get("InUse") and not b.get("Shared")]
    mb = sum(int(b.get("Size", 0)) for b in idle) / 1e6
    name = f"{len(idle)} of {len(cache)} records not in use ({mb:.0f} MB)"
    return [{"kind": "build cache", "name": name, "kit": False, "prune": bool(idle), "prune -a --volumes": bool(idle)}]


def prune_summary(preview: Any) -> Any:
    """Count, per cleanup, how many resources it would remove that the kit did NOT create."""
    import pandas as pd

    out = []
    for col in ("prune", "prune -a --volumes", "kit cleanup"):
        sel = preview[preview[col]]
        out.append({"cleanup": col, "would remove": len(sel), "of which not the kit's": int((~sel["kit"]).sum())})
    return pd.DataFrame(out, columns=["cleanup", "would remove", "of which not the kit's"])


@dataclass
class DemoLeftovers:
    """Resources made to show a cleanup at work, all in one throwaway session.

    Attributes:
        session: The session id on their labels.
        container: A stopped container.
        volume: A volume nobody uses.
        network: A network with no containers.
    """

    session: str
    container: str
    volume: str
    network: str


def make_leftovers(image: str | None = None, client: Any = None) -> DemoLeftovers:
    """Create a stopped container, an unused volume and an empty network, labelled with a fresh session."""

    c = get_client(client)
    sid = f"lesson-hygiene-{uuid.uuid4().hex[:8]}"
    labels = kit_labels(ROLE, **{SESSION_LABEL: sid})
    assert labels[ROLE_LABEL] == ROLE
    vol = c.volumes.create(f"{sid}-data", labels=labels)
    net = c.networks.create(f"{sid}-net", labels=labels)
    ctr = c.containers.create(image or lesson_image(client=c), ["true"], name=f"{sid}-job", labels=labels)
    return DemoLeftovers(sid, ctr.name, vol.name, net.name)
