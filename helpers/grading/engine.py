"""The grading engine: a second Docker Engine and registry that hold nothing of the instructor's.

Graded labs build and run the students' Dockerfiles and push to a registry (the grader's verdicts,
:mod:`helpers.grading.verdicts`). That work runs here, not on the instructor's engine: a separate
``dockerd`` (own data root under ``<state dir>/grading``, socket under ``/run``, bridge
``course-grade0`` with its own firewall rules: :mod:`helpers.grading.engine_network`) and a separate
registry (own port, credentials and storage). It starts with the course base images only; what a
submission builds is removed when its grading ends, and anything left over is removed the next time the
grading engine starts. Nested Docker is impossible here (``--privileged`` is refused), so this is a
sibling engine, started as root like the lab engine, through the kit's one dockerd starter
(:func:`helpers.engine.dockerd.start_dockerd`). What a submission builds and runs there is bounded in memory,
processes and disk (:mod:`helpers.grading.limits`, enforced by :mod:`helpers.grading.engine_bounds`).

Where the kit cannot start one (``DOCKER_HOST`` set, or not root: Codespaces, Docker Desktop),
:func:`ensure_grading_engine` returns ``None``, says why (:func:`unavailable_reason`), and grading
shares the lab engine. Where it is and how the kit's calls are pointed at it: :mod:`helpers.grading.engine_env`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import FAMILIES, OFFICIAL, base_image
from helpers.engine.client import get_client
from helpers.engine.daemon import BRIDGE_IP, apt_install, is_root
from helpers.engine.dockerd import DOCKERD, pid_alive, start_dockerd, terminate
from helpers.engine.registry import ensure_registry, stop_registry
from helpers.errors import SetupError
from helpers.grading.engine_bounds import cgroup_bounds, mount_disk, unmount_disk
from helpers.grading.engine_env import (
    GRADING_REGISTRY_PORT,
    GradingEngine,
    engine_client,
    grading_dir,
    read_engine,
    using_grading_engine,
)
from helpers.grading.engine_network import (
    GRADING_BRIDGE,
    LAB_BRIDGE,
    POOL,
    link_exists,
    network_down,
    network_up,
)
from helpers.grading.limits import BOUNDS_FILE, Bounds, GradingLimits

__all__ = ["ensure_grading_engine", "stop_grading_engine", "grading_engine_status", "unavailable_reason"]

#: Where the grading engines' sockets go (short paths, whatever the checkout's path).
RUN_BASE = Path("/run")
Log = Callable[[str], None]


def _run_dir() -> Path:
    """Runtime files (sockets) under /run, short whatever the checkout's path (one per state dir)."""
    return RUN_BASE / f"course-grading-{hashlib.sha256(str(grading_dir()).encode()).hexdigest()[:8]}"


def _socket() -> Path:
    return _run_dir() / "docker.sock"


def unavailable_reason() -> str:
    """Why no separate grading engine can run here ("" when it can)."""
    if os.environ.get("DOCKER_HOST"):
        return f"the lab engine is DOCKER_HOST={os.environ['DOCKER_HOST']}, not one this kit runs"
    if not is_root():
        return "starting a second engine needs root"
    if not Path(DOCKERD).exists():
        return "dockerd is not installed"
    return ""


def ensure_grading_engine(log: Log = print, wait_seconds: int = 60) -> GradingEngine | None:
    """Start (or reuse) the grading engine and registry, emptied of everything but the base images.

    Returns:
        The grading engine, or None when this machine cannot run one (see :func:`unavailable_reason`).

    Raises:
        EngineUnavailable: It should start here but did not (its log says why).
        SetupError: Another checkout's grading engine runs, or starting it removed the lab engine's bridge.
    """
    reason = unavailable_reason()
    if reason:
        log(f"Grading engine: none separate ({reason}); grading uses the lab engine.")
        return None
    tools = (("iptables", "iptables"), ("ip", "iproute2"), ("mkfs.ext4", "e2fsprogs"))
    missing = [pkg for tool, pkg in tools if not shutil.which(tool)]
    if missing:
        apt_install(missing, log)
    _refuse_another_checkouts_engine()
    d = grading_dir()
    d.mkdir(parents=True, exist_ok=True)
    engine = GradingEngine(f"unix://{_socket()}", str(d / "state"), GRADING_REGISTRY_PORT)
    if _answers(engine) and Bounds.load(engine.state) is None:  # started by a kit without bounds: start it again
        log("Grading engine: restarting it to put it under its memory, process and disk bounds.")
        stop_grading_engine(log)
    network_up()
    if not _answers(engine):
        _start(engine, log, wait_seconds)
    grader = engine_client(engine)
    _empty(grader, log)
    lab = get_client()
    for kind in ("slim", "full"):
        _copy_image(lab, grader, base_image(kind, lab), log)
    with using_grading_engine(engine):
        stop_registry(log=lambda m: None, client=grader)
        shutil.rmtree(Path(engine.state) / "registry" / "data", ignore_errors=True)  # the last run's repositories
        ensure_registry(log=lambda m: log(m.replace("local registry", "grading registry")), client=grader)
    (d / "engine.json").write_text(json.dumps(asdict(engine)))
    return engine


def grading_engine_status() -> tuple[bool, str]:
    """Whether the grading engine runs, and one line saying where (or why grading shares the lab engine)."""
    reason = unavailable_reason()
    if reason:
        return False, f"grading shares the lab engine ({reason})"
    engine = read_engine()
    if engine is not None and _answers(engine):
        bounds = Bounds.load(engine.state)
        said = f"; {bounds.summary()}" if bounds else ""
        return True, f"separate engine {engine.docker_host}, registry 127.0.0.1:{engine.registry_port}{said}"
    return False, "not running (`make autograde` starts it)"


def stop_grading_engine(log: Log = print) -> bool:
    """Stop the grading registry and engine, and remove the bridge and firewall rules they used.

    Returns:
        True when something was stopped.
    """
    stopped = False
    d = grading_dir()
    engine = read_engine()
    (d / "state" / BOUNDS_FILE).unlink(missing_ok=True)  # no bounds in force once it stops
    if pid_alive(d / "dockerd.pid") and engine is not None:
        with contextlib.suppress(Exception):  # a lab's networks: their bridges would outlive the engine
            engine_client(engine, timeout=20).networks.prune()
    for pidfile, name in (
        (d / "state" / "registry" / "registry.pid", "grading registry"),
        (d / "dockerd.pid", "grading engine"),
    ):
        pid = terminate(pidfile)
        if pid:
            log(f"Stopped the {name} (pid {pid}).")
            stopped = True
    if shutil.which("iptables") and not os.environ.get("DOCKER_HOST"):
        network_down()
    if not pid_alive(d / "dockerd.pid"):
        unmount_disk(d / "data")
    return stopped


def _answers(engine: GradingEngine) -> bool:
    if not _socket().exists():
        return False
    try:
        engine_client(engine, timeout=5).ping()
    except Exception:  # noqa: BLE001
        return False
    return True


def _refuse_another_checkouts_engine() -> None:
    """One grading engine per machine: its bridge and registry port are the machine's."""
    for other in RUN_BASE.glob("course-grading-*"):
        owner = other / "owner"
        if other == _run_dir() or not owner.exists():
            continue
        state = Path(owner.read_text().strip())
        if pid_alive(state / "dockerd.pid"):
            raise SetupError(
                f"Another checkout's grading engine is running ({state}).",
                "Stop it with that checkout's `python -m helpers env down`, then run again.",
            )


def _start(engine: GradingEngine, log: Log, wait_seconds: int) -> None:
    """Start the grading dockerd (own config, data root, socket, bridge) and check the lab bridge survived.

    Raises:
        EngineUnavailable: It exited or did not answer in time.
        SetupError: Starting it removed the lab engine's bridge (it is stopped again).
    """
    lab_bridge = link_exists(LAB_BRIDGE)
    d = grading_dir()
    (d / "daemon.json").write_text("{}\n")  # not the lab engine's /etc/docker/daemon.json
    bounds, parent = _bounds(d, log)
    # dockerd deletes the host's docker0 (the lab engine's bridge!) when it starts with an address pool
    # and finds its own "bridge" network from an earlier run in its store (moby: "Clear stale bridge
    # network"). Its networks are throwaway: start it without that store.
    shutil.rmtree(d / "data" / "network", ignore_errors=True)
    _run_dir().mkdir(mode=0o700, exist_ok=True)
    (_run_dir() / "owner").write_text(str(d) + "\n")
    args = [
        f"--config-file={d / 'daemon.json'}",
        f"--data-root={d / 'data'}",
        f"--exec-root={_run_dir()}",
        f"--pidfile={d / 'dockerd.pid'}",
        f"--host={engine.docker_host}",
        f"--bridge={GRADING_BRIDGE}",
        f"--default-address-pool={POOL}",
        "--iptables=false",
        "--ip-masq=false",
        f"--dns={BRIDGE_IP}",
        "--exec-opt=native.cgroupdriver=cgroupfs",  # a cgroup path, whatever the host's init
        *([f"--cgroup-parent={parent}"] if parent else []),
    ]
    start_dockerd(
        args,
        d / "dockerd.log",
        lambda: _answers(engine),
        daemon_pidfile=d / "dockerd.pid",
        name="the grading engine",
        log=log,
        wait_seconds=wait_seconds,
    )
    bounds.save(engine.state)
    if lab_bridge and not link_exists(LAB_BRIDGE):  # never leave the lab engine without its bridge
        stop_grading_engine(log)
        raise SetupError(
            f"Starting the grading engine removed the lab engine's bridge {LAB_BRIDGE}.",
            "Restart the lab engine (`python -m helpers env down`, then `make lab`) and "
            f"report this with {d / 'dockerd.log'}.",
        )


def _bounds(d: Path, log: Log) -> tuple[Bounds, str]:
    """Set up the grading engine's bounds (:mod:`helpers.grading.engine_bounds`) before it starts.

    Returns:
        The bounds in force and dockerd's ``--cgroup-parent`` ("" for none). A bound that cannot be set here is
        logged with the reason, and the engine starts without it.
    """
    limits = GradingLimits.from_env()
    parent, memory, pids, absent = cgroup_bounds(limits)
    disk, why = mount_disk(d / "disk.img", d / "data", limits.disk_gb, log)
    if why:
        absent.append(f"disk bound: {why}")
    bounds = Bounds(memory, pids, disk, tuple(absent))
    log(f"Grading engine bounds: {bounds.summary()}.")
    for line in absent:
        log(f"warning: no {line}; that bound is absent.")
    return bounds, parent


def _empty(client: Any, log: Log) -> None:
    """Remove every container, network and image but the base images (all made by grading, in its own engine)."""
    keep = {ref for family in FAMILIES.values() for ref in family.values()} | set(OFFICIAL.values())
    removed = 0
    for ctr in client.containers.list(all=True):
        ctr.remove(force=True)
        removed += 1
    for img in client.images.list():
        if not keep & set(img.tags):
            client.images.remove(img.id, force=True)
            removed += 1
    removed += len(client.networks.prune().get("NetworksDeleted") or [])
    if removed:
        log(f"Grading engine: removed {removed} containers, images and networks left by an earlier grading run.")


def _copy_image(src: Any, dst: Any, ref: str, log: Log) -> None:
    """Give the grading engine an image of the lab engine (``docker save | docker load``), once."""
    from docker.errors import ImageNotFound

    want = src.images.get(ref).id
    try:
        if dst.images.get(ref).id == want:
            return
    except ImageNotFound:
        pass
    log(f"Grading engine: loading {ref}...")
    dst.api.load_image(src.api.get_image(ref))  # docker save | docker load, streamed
