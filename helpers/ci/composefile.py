"""The compose file: read it, check its keys, substitute its variables, merge overrides.

This module owns the Compose file format for the kit. The kit reads and checks the file itself
(rather than asking ``docker compose config``) so that an unknown key is reported with its line and
the closest known key, and so that the Kubernetes mapping (:mod:`helpers.ci.k8s`) works without an
engine. :class:`helpers.ci.compose.ComposeStack` runs what this module has checked.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

from helpers.bounded import YAML_CAP, compose_yaml, read_text_capped
from helpers.errors import ConfigFileError
from helpers.paths import DATA_DIR
from helpers.textvars import substitute

__all__ = ["SAMPLE_COMPOSE", "SERVICE_KEYS", "load_compose", "merge_compose"]

#: The compose file for sample_python_app + PostgreSQL.
SAMPLE_COMPOSE = DATA_DIR / "sample_app" / "compose.yaml"
#: Service keys of the Compose specification (anything else is a typo or a newer feature).
SERVICE_KEYS = frozenset(
    """
annotations blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name cpu_count
cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset depends_on deploy develop
device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file environment expose extends
external_links extra_hosts group_add healthcheck hostname image init ipc isolation labels links logging mac_address
mem_limit mem_reservation mem_swappiness memswap_limit network_mode networks oom_kill_disable oom_score_adj pid
pids_limit platform ports privileged profiles pull_policy read_only restart runtime scale secrets security_opt
shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits user userns_mode volumes
volumes_from working_dir
""".split()
)
_TOP_KEYS = {"version", "name", "services", "volumes", "networks", "configs", "secrets"}
_VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")
_BARE = re.compile(r"\$()()(\w+)")  # _VAR's groups, for a text with no `}` left


def load_compose(
    path: str | Path = SAMPLE_COMPOSE, env: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, int]]:
    """Read a compose file, substitute ``${VAR:-default}`` and check its keys.

    Args:
        path: The compose file.
        env: Variables for substitution (default: the process environment).

    Returns:
        The parsed file and a map "service.key" -> line number.

    Raises:
        ConfigFileError: Invalid YAML, or an unknown key (the message names it, its line and
            the closest known key).
    """
    path = Path(path)
    doc, node = _parse(path)
    lines = _key_lines(node)
    _check_keys(doc, lines, path.name)
    return _substitute(doc, {**os.environ, **(env or {})}), lines


def merge_compose(base: Any, over: Any) -> Any:
    """Compose's override rule, simplified: mappings merge key by key, anything else is replaced.

    Args:
        base: The earlier file's configuration (or a part of it).
        over: The later file's configuration, which wins.

    Returns:
        The merged configuration.
    """
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: merge_compose(base.get(k), v) for k, v in over.items()}}
    return over


def _parse(path: Path) -> tuple[dict[str, Any], Any]:
    """The file as data and as a YAML node tree (the tree knows each key's line), read within bounds.

    A compose file may be a student's: :func:`helpers.bounded.compose_yaml` caps its size and refuses
    anchors, aliases and deep nesting (the kit's own files use none).
    """
    text = read_text_capped(path, YAML_CAP, path.name)
    node, doc = compose_yaml(text, path.name, hint="Check the indentation on that line.")
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        raise ConfigFileError(
            path.name, "has no `services:` mapping", hint="A compose file lists its services under `services:`."
        )
    return doc, node


def _key_lines(node: Any) -> dict[str, int]:
    """Line numbers of the top-level keys, the services and each service's keys ("service.key")."""
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        lines[key_node.value] = key_node.start_mark.line + 1
        if key_node.value == "services":
            for svc_key, svc_node in value_node.value:
                lines[svc_key.value] = svc_key.start_mark.line + 1
                for k, _ in getattr(svc_node, "value", []):
                    lines[f"{svc_key.value}.{k.value}"] = k.start_mark.line + 1
    return lines


def _check_keys(doc: dict[str, Any], lines: dict[str, int], name: str) -> None:
    """Raise on the first unknown top-level or service key, with its line and the closest known key."""
    for key in doc:
        if key not in _TOP_KEYS:
            raise ConfigFileError(
                name,
                f"unknown top-level key {key!r}",
                lines.get(key, 0),
                hint=f"Top-level keys are {', '.join(sorted(_TOP_KEYS))}.",
            )
    for service, svc in doc["services"].items():
        for key in svc or {}:
            if key not in SERVICE_KEYS:
                close = difflib.get_close_matches(key, SERVICE_KEYS, n=1)
                raise ConfigFileError(
                    name,
                    f"services.{service}: unknown key {key!r}",
                    lines.get(f"{service}.{key}", 0),
                    hint=(f"Did you mean {close[0]!r}? " if close else "")
                    + "See https://docs.docker.com/reference/compose-file/services/",
                )


def _substitute_text(text: str, env: dict[str, str]) -> str:
    """Substitute the variables of one string: a set value, else the ``${NAME:-default}`` default, else ''."""
    return substitute(text, _VAR, _BARE, lambda m: env.get(m.group(1) or m.group(3)) or (m.group(2) or ""))


def _substitute(value: Any, env: dict[str, str]) -> Any:
    """Replace ``$VAR``, ``${VAR}`` and ``${VAR:-default}`` everywhere in ``value`` (``$$`` is a literal ``$``)."""
    if isinstance(value, str):
        return _substitute_text(value.replace("$$", "\0"), env).replace("\0", "$")
    if isinstance(value, list):
        return [_substitute(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, env) for k, v in value.items()}
    return value
