"""The lab environment as one thing: bring it up, report its status, take it down.

``up`` is idempotent: it reuses whatever already answers (engine, base images, registry)
and only starts or builds what is missing. Nothing it did not create is ever removed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import base_image, base_image_source, remove_local_base_images
from helpers.engine.buildx import ensure_buildx_plugin, kit_record
from helpers.engine.client import cleanup, engine_available, engine_info
from helpers.engine.daemon import apt_install, ensure_engine, is_debian_like, is_root
from helpers.engine.daemon import stop_engine as _stop_engine
from helpers.engine.registry import ensure_registry, registry_status, stop_registry
from helpers.engine.shim import install_docker_shim
from helpers.engine.tools import TOOLS, find_tool
from helpers.errors import CourseError, EngineUnavailable
from helpers.grading.engine import grading_engine_status, stop_grading_engine
from helpers.images.builders import find_builder
from helpers.images.provision import ensure_base_images
from helpers.vm.tools import ensure_vm_tools

__all__ = ["BROWSER_PACKAGES", "find_chromium", "StatusRow", "up", "status", "status_frame", "down", "format_status"]

Log = Callable[[str], None]


@dataclass
class StatusRow:
    """One line of the environment status table."""

    component: str
    ok: bool
    detail: str
    required: bool = True


#: Debian's browser, for the test that opens JupyterLab as students do (``make test`` asks for it). Ubuntu has
#: no such deb (its ``chromium`` is a snap), so there a Chromium or Chrome already installed is used.
BROWSER_PACKAGES = ["chromium"]
#: The browsers the test can drive, in order of preference (``COURSE_CHROMIUM`` names another).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable the browser test drives: ``COURSE_CHROMIUM``, else the first of
    :data:`BROWSERS` on PATH; None when there is none."""
    if os.environ.get("COURSE_CHROMIUM"):
        return os.environ["COURSE_CHROMIUM"]
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def _install_browser(log: Log) -> None:
    """Debian's chromium, as root on Debian, unless a Chromium or Chrome is already there."""
    if find_chromium():
        return
    if is_root() and _is_debian():
        apt_install(BROWSER_PACKAGES, log)
    else:
        log("No Chromium here: the browser test needs one (Debian: apt-get install chromium; or set COURSE_CHROMIUM).")


def _is_debian() -> bool:
    """Debian or a derivative other than Ubuntu (where ``chromium`` is a real deb)."""
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return False
    return Path("/etc/debian_version").exists() and "ID=ubuntu" not in text


def up(
    log: Log = print,
    kinds: tuple[str, ...] = ("slim", "full"),
    vm_tools: bool = False,
    test_tools: bool = False,
    base_families: tuple[str, ...] = (),
) -> list[StatusRow]:
    """Provision the lab environment and return its status.

    Args:
        log: Where progress lines go.
        kinds: Base images to prepare.
        vm_tools: Also install qemu and a kernel (root on Debian/Ubuntu) for the VM activity.
        test_tools: Also install what only the test suite uses (root on Debian): Debian's chromium for the
            browser test, and PostgreSQL for the autograde-shards test (it starts a throwaway server of its own).
        base_families: Also build these stand-in families (e.g. ``("trixie",)``, a few minutes each the first
            time), beside the images the labs use by default.

    Raises:
        CourseError: A required part cannot be provided (the message says what to do).
    """

    how = ensure_engine(log)
    log(f"Docker Engine: {'already running' if how == 'existing' else 'started'}.")
    if is_root() and is_debian_like() and find_tool("compose") is None:
        apt_install(["docker-compose"], log)
    if vm_tools and is_root() and is_debian_like():
        ensure_vm_tools(log)
    if test_tools:
        _install_browser(log)
        if is_root() and is_debian_like():
            apt_install(["postgresql"], log)  # tests/pgcluster.py; the package's own cluster is not used
    _install_buildx(log)
    install_docker_shim(log)  # the `docker` students type builds with BuildKit and has `compose`
    find_builder.cache_clear()  # the plugin may be new
    builder = find_builder()
    if not builder.buildkit:
        log("Warning: only the legacy builder is available; labs that use RUN --mount will say so.")
    images = ensure_base_images(log, kinds)
    log("Base images: " + ", ".join(f"{k}={v}" for k, v in images.items()))
    for family in base_families:
        extra = ensure_base_images(log, kinds, family=family)
        log(f"Base images ({family} family): " + ", ".join(f"{k}={v}" for k, v in extra.items()))
    info = ensure_registry(log)
    log(f"Registry: {info.address} (user {info.username}; password in the state directory).")
    return status()


def _install_buildx(log: Log) -> None:
    """The buildx CLI plugin on a Debian 12 host that lacks one (:mod:`helpers.engine.buildx`). Without it builds
    still use BuildKit through Debian's 20.10 client, so a failure is a warning, not the end of the set-up."""
    try:
        ensure_buildx_plugin(log)
    except CourseError as e:
        log(f"Warning: no buildx plugin installed: {e.message} {e.hint}")


def status() -> list[StatusRow]:
    """Check every part of the environment without changing anything."""
    rows: list[StatusRow] = []
    try:
        info = engine_info()
        rows.append(
            StatusRow("engine", True, f"Docker {info.version} ({info.os}, kernel {info.kernel}, {info.storage_driver})")
        )
        engine_ok = True
    except EngineUnavailable as e:
        rows.append(StatusRow("engine", False, e.message + " " + e.hint))
        engine_ok = False
    builder = find_builder()
    record = kit_record() if builder.kind == "buildx" else None
    kit_note = f"; plugin {record['version']} from Debian {record['suite']}, installed by the kit" if record else ""
    rows.append(StatusRow("buildkit", builder.buildkit, builder.describe() + kit_note))
    if engine_ok:
        try:
            ref = base_image("slim")
            rows.append(StatusRow("base image", True, f"{ref}: {base_image_source(ref)}"))
        except CourseError as e:
            rows.append(StatusRow("base image", False, f"{e.message} {e.hint}"))
    else:
        rows.append(StatusRow("base image", False, "needs the engine"))
    reg = registry_status()
    if reg["running"]:
        auth = "authentication on, course login works" if reg["login_ok"] else "login FAILS with the course credentials"
        ok = reg["auth_required"] and reg["login_ok"]
        rows.append(StatusRow("registry", ok, f"{reg['address']} ({auth})"))
    else:
        rows.append(StatusRow("registry", False, f"nothing answers on {reg['address']}; run `make lab`"))
    rows.append(_grading_row())
    for name, purpose in TOOLS.items():
        tool = find_tool(name)
        optional = name in ("syft", "trivy", "grype", "cosign", "qemu")
        detail = (
            f"{tool.version} - {purpose}"
            if tool
            else f"not installed - {purpose}" + ("; the kit uses its own fallback" if optional else "")
        )
        rows.append(StatusRow(name, tool is not None, detail, required=not optional))
    return rows


def _grading_row() -> StatusRow:
    """The grading engine (optional: `make autograde` starts it)."""

    running, detail = grading_engine_status()
    return StatusRow("grading", running, f"{detail} (instructors' autograding only)", required=False)


def status_frame(rows: list[StatusRow] | None = None) -> Any:
    """The status as a pandas DataFrame (for the index notebook)."""
    import pandas as pd

    rows = status() if rows is None else rows
    return pd.DataFrame([{"component": r.component, "state": _state(r), "detail": r.detail} for r in rows]).set_index(
        "component"
    )


def _state(r: StatusRow) -> str:
    return "ok" if r.ok else ("MISSING" if r.required else "absent")


def format_status(rows: list[StatusRow]) -> str:
    """A short text table."""
    width = max(len(r.component) for r in rows)
    return "\n".join(f"{r.component:<{width}}  {_state(r):<7}  {r.detail}" for r in rows)


def down(log: Log = print, purge: bool = False, stop_engine: bool = True) -> None:
    """Stop what the kit started: the registry, and dockerd if the kit started it.

    Args:
        log: Where progress lines go.
        purge: Also remove every kit-labelled resource and the local base images.
        stop_engine: Stop a dockerd the kit started (an engine it found running is left alone).
    """

    stop_registry(log)
    if stop_engine:
        stop_grading_engine(log)
    if purge and engine_available():
        report = cleanup(include_base=True)
        log(f"Removed {report.total} kit resources.")
        removed = remove_local_base_images()
        if removed:
            log("Removed base images: " + ", ".join(removed))
    if stop_engine and not os.environ.get("DOCKER_HOST"):
        if not _stop_engine(log):
            log("The Docker Engine was not started by the kit; left running.")
