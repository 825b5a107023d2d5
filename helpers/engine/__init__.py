"""The Docker Engines the kit talks to and provisions.

The client, the lab engine's start (``env.up`` -> ``daemon``; ``dockerd`` starts every kit dockerd), environment
status (``env``), the registry, base images, external tools, and the buildx plugin on Debian 12 (``buildx``).
"""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "BRIDGE_IP": "daemon",
    "CleanupReport": "client",
    "DOCKERD": "dockerd",
    "EngineInfo": "client",
    "FAMILIES": "baseimages",
    "LABEL": "client",
    "LOCAL": "baseimages",
    "OFFICIAL": "baseimages",
    "ORIGIN_LABEL": "baseimages",
    "REGISTRY_PORT": "registry",
    "ROLE_LABEL": "client",
    "RegistryInfo": "registry",
    "SESSION_LABEL": "client",
    "StatusRow": "env",
    "TOOLS": "tools",
    "Tool": "tools",
    "apt_install": "daemon",
    "base_family": "baseimages",
    "base_image": "baseimages",
    "base_image_source": "baseimages",
    "cleanup": "client",
    "compose_command": "tools",
    "down": "env",
    "engine_available": "client",
    "ensure_buildx_plugin": "buildx",
    "engine_info": "client",
    "ensure_engine": "daemon",
    "ensure_registry": "registry",
    "fill_base_args": "baseimages",
    "find_tool": "tools",
    "format_status": "env",
    "get_client": "client",
    "has_image": "baseimages",
    "is_debian_like": "daemon",
    "is_root": "daemon",
    "kit_labels": "client",
    "local_registry": "registry",
    "official_arg_defaults": "baseimages",
    "pid_alive": "dockerd",
    "registry_port": "registry",
    "registry_status": "registry",
    "remove_local_base_images": "baseimages",
    "remove_stale_pidfile": "dockerd",
    "require_tool": "tools",
    "session_id": "client",
    "status": "env",
    "status_frame": "env",
    "stop_engine": "daemon",
    "start_dockerd": "dockerd",
    "stop_registry": "registry",
    "terminate": "dockerd",
    "up": "env",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
