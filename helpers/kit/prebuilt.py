"""Pre-built course images for students without Docker: export on the instructor's side, find offline.

``make prebuilt`` (``python -m helpers course prebuilt``) builds every image in :data:`CATALOG`
and saves it as a ``docker save`` archive ``prebuilt/<name>.tar`` (git-ignored) listed in
``prebuilt/manifest.json``; the instructor shares the folder. Notebooks started where no engine
answers get the archives through :func:`helpers.kit.mode.course_mode` (``MODE.archive(name)``) and read
them (layers, bill of materials, scanning, review) instead of the engine.

Which images: the :data:`CATALOG` (a notebook that reads an archive adds its image there), plus
every image a lab author labels ``org.dockercourse.prebuilt=true``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import base_image
from helpers.engine.client import get_client
from helpers.errors import CourseError, ImageNotFound, NotAnImageArchive
from helpers.kit.sampleapp import sample_image
from helpers.paths import course_root

__all__ = [
    "PREBUILT_LABEL",
    "CATALOG",
    "PrebuiltImage",
    "PrebuiltManifest",
    "prebuilt_dir",
    "course_images",
    "catalog_image",
    "export_images",
    "read_manifest",
    "find_archive",
]

PREBUILT_LABEL = "org.dockercourse.prebuilt"
MANIFEST = "manifest.json"

#: What ``make prebuilt`` exports: archive name -> (what it is, ``"module:function"``). The function
#: (in ``helpers/<module>.py``) takes ``client=`` and returns the reference of the image, building
#: it first when needed. A notebook that reads an archive offline adds its image here.
CATALOG: dict[str, tuple[str, str]] = {
    "python-slim": ("the slim Python base image", "kit.prebuilt:_base_slim"),
    "python-full": ("the full Python base image (compilers, headers)", "kit.prebuilt:_base_full"),
    "layers-wasteful": ("notebook 10's wasteful image", "layers.lesson:prebuilt_wasteful"),
    "layers-lean": ("notebook 10's lean image", "layers.lesson:prebuilt_lean"),
    "sample-naive": ("the sample app, Lab 1's reference Dockerfile", "kit.prebuilt:_sample_naive"),
    "sample-optimized": ("the sample app, Lab 2's reference Dockerfile", "kit.prebuilt:_sample_optimized"),
    "lab3-old": (
        "Lab 3's inherited image (Dockerfile.old: old pins, no security updates)",
        "supplychain.remediation:build_lab3_old",
    ),
    "secrets-mount": (
        "notebook 21's image, index token through a secret mount (public demo token)",
        "supplychain.secrets:_prebuilt_secret_mount",
    ),
    "secrets-arg-env": (
        "notebook 21's image, index token through ARG/ENV: it leaks (public demo token)",
        "supplychain.secrets:_prebuilt_arg_env",
    ),
}


def _base_slim(client: Any = None) -> str:

    return base_image("slim", client=client)


def _base_full(client: Any = None) -> str:

    return base_image("full", client=client)


def _sample_naive(client: Any = None) -> str:

    return sample_image("naive", client=client)


def _sample_optimized(client: Any = None) -> str:

    return sample_image("optimized", client=client)


def catalog_image(name: str, client: Any = None) -> str:
    """Make sure the catalog image ``name`` exists on the engine (building it if needed); its reference.

    Raises:
        ImageNotFound: ``name`` is not in :data:`CATALOG`.
    """
    import importlib

    if name not in CATALOG:
        raise ImageNotFound(name, hint=f"Known prebuilt images: {', '.join(CATALOG)}.")
    module, _, func = CATALOG[name][1].partition(":")
    return getattr(importlib.import_module(f"helpers.{module}"), func)(client=client)


@dataclass
class PrebuiltImage:
    """One archive in the manifest."""

    name: str
    ref: str
    archive: str
    bytes: int
    sha256: str
    image_id: str
    layers: int


@dataclass
class PrebuiltManifest:
    """What ``prebuilt/manifest.json`` holds."""

    path: Path
    created: str
    images: list[PrebuiltImage] = field(default_factory=list)


def prebuilt_dir(directory: str | os.PathLike[str] | None = None) -> Path:
    """``directory``, else ``COURSE_PREBUILT``, else ``<course root>/prebuilt``."""

    return Path(directory or os.environ.get("COURSE_PREBUILT") or course_root() / "prebuilt")


def short_name(ref: str) -> str:
    """``course-base/python:3.11-slim-bookworm`` -> ``python-3.11-slim-bookworm``."""
    repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
    return f"{repo.rsplit('/', 1)[-1]}-{tag}"


def course_images(client: Any = None) -> list[str]:
    """What ``make prebuilt`` exports: the :data:`CATALOG` names, then labelled images' references."""

    c = get_client(client)
    refs = list(CATALOG)
    for img in c.images.list(filters={"label": f"{PREBUILT_LABEL}=true"}):
        refs += [t for t in img.tags if t not in refs][:1]
    return refs


def export_images(
    refs: Iterable[str] | None = None,
    dest: str | os.PathLike[str] | None = None,
    client: Any = None,
    on_image: Any = None,
) -> PrebuiltManifest:
    """Save images as archives into ``dest`` and write the manifest (existing archives are replaced).

    Args:
        refs: :data:`CATALOG` names (built when missing) or image references; default
            :func:`course_images` (the whole catalog and every labelled image).
        on_image: Called with each name before it is built and saved (progress).

    Raises:
        ImageNotFound: A named image is not on the engine.
    """
    from docker.errors import ImageNotFound as _NF

    c = get_client(client)
    out = prebuilt_dir(dest)
    out.mkdir(parents=True, exist_ok=True)
    items = []
    for wanted in list(refs or course_images(c)):
        if on_image:
            on_image(wanted)
        name, ref = (wanted, catalog_image(wanted, client=c)) if wanted in CATALOG else (short_name(wanted), wanted)
        try:
            img = c.images.get(ref)
        except _NF as e:
            raise ImageNotFound(ref, hint="Build or pull it first, or leave it out of the list.") from e
        path = out / (re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".tar")
        digest = hashlib.sha256()
        tmp = path.with_suffix(".tar.part")
        with open(tmp, "wb") as f:
            for chunk in img.save(named=True):
                digest.update(chunk)
                f.write(chunk)
        tmp.replace(path)
        items.append(
            PrebuiltImage(name, ref, path.name, path.stat().st_size, digest.hexdigest(), img.id, len(img.history()))
        )
    if (out / MANIFEST).exists():  # keep what an earlier export listed and this one did not redo
        try:
            done = {i.name for i in items}
            items = [i for i in read_manifest(out).images if i.name not in done and (out / i.archive).is_file()] + items
        except CourseError:
            pass
    manifest = PrebuiltManifest(out / MANIFEST, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), items)
    manifest.path.write_text(json.dumps({"created": manifest.created, "images": [asdict(i) for i in items]}, indent=1))
    return manifest


def read_manifest(directory: str | os.PathLike[str] | None = None) -> PrebuiltManifest:
    """Read ``manifest.json``.

    Raises:
        CourseError: There is no manifest (no prebuilt archives here).
    """
    path = prebuilt_dir(directory) / MANIFEST
    if not path.exists():
        raise CourseError(
            f"No prebuilt images at {path.parent}.",
            "Ask your instructor for the prebuilt archives (`make prebuilt`) and put them in prebuilt/.",
        )
    try:
        data = json.loads(path.read_text())
        images = [PrebuiltImage(**i) for i in data["images"]]
    except (ValueError, KeyError, TypeError) as e:
        raise CourseError(f"{path} is not a prebuilt manifest ({e}).", "Copy the prebuilt/ folder again.") from e
    return PrebuiltManifest(path, data.get("created", ""), images)


def find_archive(name: str, directory: str | os.PathLike[str] | None = None, verify: bool = False) -> Path:
    """The archive of a course image, for notebooks working without an engine.

    Args:
        name: Image reference (``course-base/python:3.11-slim-bookworm``), short name
            (``python-3.11-slim-bookworm``) or a unique part of either (``slim``).
        directory: Folder with the archives (default :func:`prebuilt_dir`).
        verify: Also check the archive's SHA-256 against the manifest.

    Raises:
        ImageNotFound: No archive matches (or several do).
        NotAnImageArchive: The file is missing, truncated or does not match its checksum.
    """
    manifest = read_manifest(directory)
    exact = [i for i in manifest.images if name in (i.ref, i.name, i.archive)]
    matches = exact or [i for i in manifest.images if name in i.ref or name in i.name]
    if len(matches) != 1:
        known = ", ".join(i.name for i in manifest.images) or "none"
        what = "matches several archives" if matches else "has no prebuilt archive"
        raise ImageNotFound(name, hint=f"{name!r} {what}; available: {known}.")
    item = matches[0]
    path = manifest.path.parent / item.archive
    if not path.is_file() or path.stat().st_size != item.bytes:
        raise NotAnImageArchive(str(path), "missing or truncated; copy it again")
    if verify:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != item.sha256:
            raise NotAnImageArchive(str(path), "its checksum does not match the manifest")
    return path
