"""The Docker Engines the kit talks to and provisions: the client, the lab engine's start (``daemon``), environment status (``env``), the registry, base images and external tools."""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "BRIDGE_IP": "daemon",
    "CleanupReport": "client",
    "EngineInfo": "client",
    "LABEL": "client",
    "LOCAL": "baseimages",
    "OFFICIAL": "baseimages",
    "REGISTRY_PORT": "registry",
    "ROLE_LABEL": "client",
    "RegistryInfo": "registry",
    "SESSION_LABEL": "client",
    "StatusRow": "env",
    "TOOLS": "tools",
    "Tool": "tools",
    "apt_install": "daemon",
    "base_image": "baseimages",
    "base_image_source": "baseimages",
    "cleanup": "client",
    "compose_command": "tools",
    "down": "env",
    "engine_available": "client",
    "engine_info": "client",
    "ensure_base_images": "baseimages",
    "ensure_engine": "daemon",
    "ensure_registry": "registry",
    "fill_base_args": "baseimages",
    "find_tool": "tools",
    "format_status": "env",
    "get_client": "client",
    "is_debian_like": "daemon",
    "is_root": "daemon",
    "kit_labels": "client",
    "local_registry": "registry",
    "official_arg_defaults": "baseimages",
    "registry_port": "registry",
    "registry_status": "registry",
    "remove_local_base_images": "baseimages",
    "require_tool": "tools",
    "session_id": "client",
    "status": "env",
    "status_frame": "env",
    "stop_engine": "daemon",
    "stop_registry": "registry",
    "up": "env",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
