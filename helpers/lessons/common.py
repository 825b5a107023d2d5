"""Small pieces shared by the lesson notebooks (01-07): a one-shot container runner and
the one-line engine status every lesson shows at the top.

The live demonstrations of each lesson live in concept modules (``isolation``, ``caching``,
``tracing``, ``runtime``, ``basecompare``, ``hygiene``); they all run containers through
:func:`run_once`, which labels them with :func:`helpers.engine.client.kit_labels` and removes them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from helpers.bounded import OUTPUT_CAP
from helpers.engine.baseimages import base_image
from helpers.engine.client import engine_available, get_client, kit_labels, session_id
from helpers.errors import ContainerError
from helpers.images.health import log_tail

__all__ = ["RunOutput", "run_once", "engine_status_line", "lesson_image", "lesson_tag"]

#: Role label on everything the lessons create.
ROLE = "lesson"
#: Lines of a one-shot container's output that :func:`run_once` keeps (its tail, at most OUTPUT_CAP bytes).
OUTPUT_LINES = 10_000


@dataclass
class RunOutput:
    """What a one-shot container printed.

    Attributes:
        exit_code: Its exit status.
        output: stdout and stderr together: the last ``OUTPUT_LINES`` lines, at most ``OUTPUT_CAP`` bytes
            of them (a first line says when it was cut).
        seconds: Wall time from create to exit.
        attrs: ``docker inspect`` of the container just before it was removed.
    """

    exit_code: int
    output: str
    seconds: float
    attrs: dict[str, Any]


def lesson_image(kind: str = "slim", client: Any = None) -> str:
    """The image the lessons run: the course's Python base ("slim" or "full")."""

    return base_image(kind, client)


def lesson_tag(repository: str, variant: str) -> str:
    """An image reference for a lesson's build, unique per session (parallel runs never collide).

    Example: ``lesson_tag("course-lesson/caching", "deps-first")`` ->
    ``course-lesson/caching:deps-first-default``.
    """

    tag = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{variant}-{session_id()}").strip(".-")[:128]
    return f"{repository}:{tag}"


def run_once(
    command: str | list[str],
    image: str | None = None,
    client: Any = None,
    check: bool = False,
    timeout: float = 120,
    **run_kwargs: Any,
) -> RunOutput:
    """Run a command in a fresh labelled container, wait for it, and remove it.

    Args:
        command: A shell string (run with ``sh -c``) or an argv list.
        image: Image to run (default: the slim Python base).
        client: docker-py client (connects lazily).
        check: Raise :class:`ContainerError` on a non-zero exit.
        timeout: Seconds to wait for the container to exit.
        **run_kwargs: More ``containers.create`` arguments (environment, volumes, mem_limit, ...).

    Returns:
        A :class:`RunOutput`.

    Raises:
        ContainerError: ``check`` is set and the command failed, or it did not exit in time.
    """
    c = get_client(client)
    image = image or lesson_image(client=c)
    argv = ["sh", "-c", command] if isinstance(command, str) else command
    labels = {**kit_labels(ROLE), **run_kwargs.pop("labels", {})}
    start = time.monotonic()
    ctr = c.containers.create(image, argv, labels=labels, **run_kwargs)
    try:
        ctr.start()
        try:
            status = ctr.wait(timeout=timeout)
        except Exception as e:  # requests ReadTimeout
            raise ContainerError(
                f"The container did not exit within {timeout:.0f} s.",
                container=ctr.name,
                hint="Make the command finish, or raise timeout=.",
            ) from e
        seconds = time.monotonic() - start
        output = log_tail(ctr, OUTPUT_LINES, OUTPUT_CAP)  # the command may print without end
        ctr.reload()
        attrs = ctr.attrs
    finally:
        ctr.remove(force=True, v=True)
    code = int(status.get("StatusCode", -1))
    if check and code != 0:
        raise ContainerError(
            "The command failed in the container.",
            container=ctr.name,
            exit_code=code,
            log_tail="\n".join(output.splitlines()[-10:]),
        )
    return RunOutput(code, output, seconds, attrs)


def engine_status_line(client: Any = None) -> str:
    """One line for the top of a lesson: is there an engine, and what the lesson does without one."""
    if not engine_available(client):
        return (
            "No Docker Engine answers: this lesson shows its diagrams and explanations, "
            "and skips the live demonstrations."
        )
    v = get_client(client).version()
    return (
        f"Docker Engine {v.get('Version', '?')} answers (API {v.get('ApiVersion', '?')}): the demonstrations run live."
    )
