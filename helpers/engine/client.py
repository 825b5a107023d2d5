"""Connection to the Docker Engine, the kit's labels, and a cleanup that touches only them.

Importing this module never contacts the engine. Every function takes ``client=None``
and connects lazily (``DOCKER_HOST`` or the default socket).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from helpers.errors import EngineUnavailable

__all__ = [
    "LABEL",
    "SESSION_LABEL",
    "ROLE_LABEL",
    "kit_labels",
    "session_id",
    "get_client",
    "engine_available",
    "engine_info",
    "EngineInfo",
    "cleanup",
    "CleanupReport",
]

#: Every container, image, network and volume the kit creates carries this label.
LABEL = "org.dockercourse.kit"
#: Which run created it (tests use a unique value so parallel runs never clean each other up).
SESSION_LABEL = "org.dockercourse.session"
#: What it is for: "registry", "lab" (default), "test", ... Base images carry no kit label
#: (labels are inherited by every image built FROM them); they are known by name instead.
ROLE_LABEL = "org.dockercourse.role"

_DEFAULT_TIMEOUT = 60


def session_id() -> str:
    """Return the current session id (``COURSE_SESSION`` or ``"default"``)."""
    return os.environ.get("COURSE_SESSION", "default")


def kit_labels(role: str = "lab", **extra: str) -> dict[str, str]:
    """Labels for a resource the kit creates.

    Args:
        role: What the resource is for ("lab", "registry", "test", ...).
        **extra: More labels (keys are used as given).

    Returns:
        A dict to pass as ``labels=`` to docker-py or as ``--label`` to the CLI.
    """
    labels = {LABEL: "true", SESSION_LABEL: session_id(), ROLE_LABEL: role}
    labels.update(extra)
    return labels


def get_client(client: Any = None, timeout: int = _DEFAULT_TIMEOUT) -> Any:
    """Return a docker-py client that answers, or raise :class:`EngineUnavailable`.

    Args:
        client: An existing client; returned as is when given.
        timeout: API timeout in seconds.

    Raises:
        EngineUnavailable: When no engine answers at ``DOCKER_HOST`` or the default socket.
    """
    if client is not None:
        return client
    import docker  # imported lazily: importing helpers must stay cheap
    from docker.errors import DockerException

    try:
        new = docker.from_env(timeout=timeout)
        new.ping()
    except DockerException as e:
        raise EngineUnavailable(_where()) from e
    except Exception as e:  # requests/urllib3 errors while pinging
        raise EngineUnavailable(f"{_where()}: {type(e).__name__}") from e
    _translate_connection_errors(new)
    return new


def _translate_connection_errors(client: Any) -> None:
    """Make a lost engine (dockerd stopped mid-lab) raise :class:`EngineUnavailable`, not a
    page of urllib3 traceback: every API request goes through ``api.send``."""
    import requests

    send = client.api.send

    def guarded_send(*args: Any, **kwargs: Any) -> Any:
        try:
            return send(*args, **kwargs)
        except requests.exceptions.ConnectionError as e:
            raise EngineUnavailable(
                "the engine stopped answering in the middle of a request",
                "Run `python -m helpers env up` (or `make lab`) to start it again, then re-run this cell.",
            ) from e

    client.api.send = guarded_send


def engine_available(client: Any = None) -> bool:
    """True when a Docker Engine answers."""
    try:
        get_client(client, timeout=5)
    except EngineUnavailable:
        return False
    return True


def _where() -> str:
    return (
        f"DOCKER_HOST={os.environ['DOCKER_HOST']}" if os.environ.get("DOCKER_HOST") else "unix:///var/run/docker.sock"
    )


@dataclass
class EngineInfo:
    """What a student needs to know about the engine."""

    version: str
    api_version: str
    os: str
    kernel: str
    storage_driver: str
    cgroup_version: str
    cpus: int
    memory_bytes: int


def engine_info(client: Any = None) -> EngineInfo:
    """Describe the engine (version, kernel, storage driver, resources)."""
    c = get_client(client)
    v = c.version()
    i = c.info()
    return EngineInfo(
        version=v.get("Version", "?"),
        api_version=v.get("ApiVersion", "?"),
        os=i.get("OperatingSystem", "?"),
        kernel=i.get("KernelVersion", "?"),
        storage_driver=i.get("Driver", "?"),
        cgroup_version=str(i.get("CgroupVersion", "?")),
        cpus=int(i.get("NCPU", 0)),
        memory_bytes=int(i.get("MemTotal", 0)),
    )


@dataclass
class CleanupReport:
    """What :func:`cleanup` removed (names or short ids)."""

    containers: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.containers) + len(self.images) + len(self.volumes) + len(self.networks)


def cleanup(
    client: Any = None,
    session: str | None = None,
    include_base: bool = False,
    dry_run: bool = False,
) -> CleanupReport:
    """Remove what the kit created, and nothing else.

    Only resources labelled :data:`LABEL` are touched. The registry container (role
    "registry") is kept unless ``include_base``; base images are never removed here
    (``python -m helpers env down --purge`` removes them by name).

    Args:
        client: docker-py client (connects lazily).
        session: Remove only what this session created (``None``: every session).
        include_base: Also remove the registry container.
        dry_run: Report what would be removed without removing it.

    Returns:
        A :class:`CleanupReport`.
    """
    from docker.errors import APIError, NotFound

    c = get_client(client)
    filters = {"label": [f"{LABEL}=true"] + ([f"{SESSION_LABEL}={session}"] if session else [])}
    keep = set() if include_base else {"registry"}
    report = CleanupReport()
    kinds: list[tuple[list[str], list[Any], Any, Any, Any]] = [
        # (report list, resources, their labels, their name, how to remove one)
        (report.containers, c.containers.list(all=True, filters=filters), _labels, _name, _remove_container),
        (report.networks, c.networks.list(filters=filters), _attr_labels, _name, lambda n: n.remove()),
        (report.volumes, c.volumes.list(filters=filters), _attr_labels, _name, lambda v: v.remove(force=True)),
        (
            report.images,
            c.images.list(filters=filters),
            _labels,
            _image_name,
            lambda i: c.images.remove(i.id, force=True),
        ),
    ]
    for removed, items, labels_of, name_of, remove in kinds:
        for item in items:
            if (labels_of(item) or {}).get(ROLE_LABEL) in keep:
                continue
            removed.append(name_of(item))
            if not dry_run:
                try:
                    remove(item)
                except (NotFound, APIError):
                    pass
    return report


def _labels(resource: Any) -> dict[str, str] | None:
    return resource.labels


def _attr_labels(resource: Any) -> dict[str, str] | None:
    return resource.attrs.get("Labels")


def _name(resource: Any) -> str:
    return resource.name


def _image_name(image: Any) -> str:
    return image.tags[0] if image.tags else image.short_id


def _remove_container(container: Any) -> None:
    container.remove(force=True, v=True)
