"""The ``docker`` a student types: a small launcher in the course's venv that picks the CLI that works here.

Students type real commands (``docker build``, ``docker compose up``). On some machines the first
``docker`` on PATH cannot build with BuildKit (a 23+ client without the buildx plugin refuses
``DOCKER_BUILDKIT=1`` and falls back to the legacy builder, which rejects ``RUN --mount``), or has no
``compose`` plugin. On Debian 12 ``make env`` first installs a buildx plugin (:mod:`helpers.engine.buildx`). It
then writes ``<venv>/bin/docker``: it runs the newest client that has buildx, else a classic client (with
``DOCKER_BUILDKIT=1`` for any client older than 23, whose own ``docker build`` needs it), and sends
``docker compose`` to ``docker-compose`` when the plugin is missing. The venv's bin comes first on PATH
in ``make lab`` and ``make test``, so notebooks, terminals and tests all get it. Where ``docker buildx``
and ``docker compose`` already work (Docker Desktop, Codespaces), nothing is written.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from helpers.images.builders import Builder, _candidates, _client_major

__all__ = ["MARKER", "shim_text", "install_docker_shim", "choose_cli"]

#: The line that marks a file as the kit's (the kit never overwrites a ``docker`` it did not write).
MARKER = "# docker launcher written by the course kit (helpers/engine/shim.py)"


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _is_shim(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return MARKER.encode() in f.read(4096)
    except OSError:
        return False


def choose_cli() -> Builder:
    """The docker CLI to launch: one with buildx, else a classic (< 23) client with BuildKit, else legacy."""
    clis = [c for c in _candidates() if not _is_shim(c)]
    with_buildx = [cli for cli in clis if _works([cli, "buildx", "version"])]
    if with_buildx:
        # the newest client: a 23+ one's own `docker build` is buildx (the same choice whatever PATH's order)
        return Builder("buildx", max(with_buildx, key=_client_major))
    for cli in clis:
        if 0 < _client_major(cli) < 23:
            return Builder("classic-buildkit", cli)
    return Builder("legacy", clis[0] if clis else "")


def shim_text(builder: Builder, compose_v1: str | None, classic: bool | None = None) -> str:
    """The launcher script for ``builder`` (``compose_v1``: where ``docker compose`` goes, if it must).

    ``classic``: the client is older than 23, so its ``docker build`` needs ``DOCKER_BUILDKIT=1`` even beside a
    buildx plugin (default: only for the ``classic-buildkit`` kind)."""
    lines = ["#!/bin/sh", MARKER, f"# {builder.describe()}"]
    if classic is None:
        classic = builder.kind == "classic-buildkit"
    if classic:
        lines.append('export DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-1}"')
    if compose_v1:
        lines.append(f'if [ "$1" = compose ]; then shift; exec {shlex.quote(compose_v1)} "$@"; fi')
    lines.append(f'exec {shlex.quote(builder.cli)} "$@"')
    return "\n".join(lines) + "\n"


def install_docker_shim(log: Callable[[str], None] = print, bin_dir: Path | None = None) -> Path | None:
    """Write ``<venv>/bin/docker`` when the plain ``docker`` would not build or compose here; returns its path.

    Nothing is written outside a virtual environment, where ``docker buildx`` and ``docker compose`` work,
    or over a ``docker`` the kit did not write.
    """
    if bin_dir is None:
        if sys.prefix == sys.base_prefix:
            return None
        bin_dir = Path(sys.prefix) / "bin"
    target = bin_dir / "docker"
    if target.exists() and not _is_shim(str(target)):
        log(f"Not replacing {target}: it is not the kit's.")
        return None
    builder = choose_cli()
    if not builder.cli:
        return None
    compose_ok = _works([builder.cli, "compose", "version"])
    compose_v1 = None if compose_ok else shutil.which("docker-compose")
    if builder.kind == "buildx" and (compose_ok or not compose_v1):
        if target.exists():
            target.unlink()  # ours, and no longer needed
        return None
    target.write_text(shim_text(builder, compose_v1, classic=0 < _client_major(builder.cli) < 23))
    os.chmod(target, 0o755)
    log(f"`docker` in this course runs {builder.cli} ({builder.describe()}); written to {target}.")
    return target
