"""The one reader of ``docker save`` archives and OCI layouts; every other module takes its objects."""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ArchiveLayer": "model",
    "BLOCK": "tarstream",
    "Bounded": "tarstream",
    "ChunkSource": "tarstream",
    "DEMO_LAYERS": "demo",
    "Entry": "tarstream",
    "FileSource": "tarstream",
    "FileSpec": "demo",
    "Gunzip": "tarstream",
    "ImageArchive": "model",
    "MemorySource": "tarstream",
    "TOOL_FILES": "images",
    "ZERO": "tarstream",
    "archive_layers": "images",
    "clean_name": "model",
    "files_present": "images",
    "files_table": "images",
    "is_archive": "images",
    "iter_members": "tarstream",
    "iter_tar": "tarstream",
    "layer_sizes": "images",
    "overlay_entries": "overlay",
    "read_archive": "reader",
    "read_engine_image": "reader",
    "read_engine_image_fast": "reader",
    "read_overlay_image": "overlay",
    "save_image": "reader",
    "saved_archive": "reader",
    "shared_layers": "images",
    "sharing_summary": "images",
    "valid_header": "tarstream",
    "visible_files": "images",
    "write_demo_archive": "demo",
    "write_image_archive": "demo",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
