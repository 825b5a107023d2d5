"""The grading engine: a second Docker Engine and registry that hold nothing of the instructor's.

Graded labs build and run the students' Dockerfiles and push to a registry (trusted queries,
``grading.yml`` engine steps). That work runs here, not on the instructor's engine: a separate
``dockerd`` (own data root under ``<state dir>/grading``, socket under ``/run``, bridge
``course-grade0`` with its own firewall rules) and a separate registry (own port, credentials and
storage). It starts with the course base images only; what a submission builds is removed when its
grading ends, and anything left over is removed the next time the grading engine starts. Nested
Docker is impossible here (``--privileged`` is refused), so this is a sibling engine, started as
root like the lab engine.

Where the kit cannot start one (``DOCKER_HOST`` set, or not root: Codespaces, Docker Desktop),
:func:`ensure_grading_engine` returns ``None``, says why (:func:`unavailable_reason`), and grading
shares the lab engine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from helpers.engine.baseimages import LOCAL, OFFICIAL, base_image
from helpers.engine.client import get_client
from helpers.engine.daemon import DOCKERD, _pid_alive, apt_install, is_root, terminate
from helpers.engine.registry import ensure_registry, stop_registry
from helpers.errors import EngineUnavailable, SetupError
from helpers.paths import state_dir

__all__ = [
    "GradingEngine",
    "ensure_grading_engine",
    "stop_grading_engine",
    "grading_engine_env",
    "using_grading_engine",
    "current_grading_engine",
    "grading_client",
    "grading_engine_status",
    "unavailable_reason",
    "GRADING_ENV",
    "GRADING_BRIDGE",
    "GRADING_SUBNET",
    "GRADING_REGISTRY_PORT",
]

#: Environment variable holding the grading engine's description (JSON) for the grader's processes.
GRADING_ENV = "COURSE_GRADING_ENGINE"
GRADING_BRIDGE = "course-grade0"
#: The lab engine's bridge, which the grading engine must leave alone.
LAB_BRIDGE = "docker0"
#: Every grading network (the bridge's /24 and the pool of the networks a lab creates) is in here.
GRADING_SUBNET = "10.213.0.0/16"
_GATEWAY = "10.213.0.1/24"
_POOL = "base=10.213.128.0/17,size=24"
GRADING_REGISTRY_PORT = int(os.environ.get("COURSE_GRADING_REGISTRY_PORT", "5055"))
#: Where the grading engines' sockets go (short paths, whatever the checkout's path).
RUN_BASE = Path("/run")
#: iptables comment on every rule this module adds (so it removes only its own).
RULE_COMMENT = "course-grading"
Log = Callable[[str], None]


@dataclass(frozen=True)
class GradingEngine:
    """Where grading does its engine work.

    Attributes:
        docker_host: ``unix://`` address of the grading dockerd.
        state: State directory of the grading environment (its registry's credentials and data).
        registry_port: Port of the grading registry on 127.0.0.1.
    """

    docker_host: str
    state: str
    registry_port: int

    def env(self) -> dict[str, str]:
        """The environment variables that point the kit at this engine and registry."""
        return {
            "DOCKER_HOST": self.docker_host,
            "COURSE_STATE_DIR": self.state,
            "COURSE_REGISTRY_PORT": str(self.registry_port),
        }


def _dir() -> Path:
    return state_dir() / "grading"


def _run_dir() -> Path:
    """Runtime files (sockets) under /run, short whatever the checkout's path (one per state dir)."""
    import hashlib

    return RUN_BASE / f"course-grading-{hashlib.sha256(str(_dir()).encode()).hexdigest()[:8]}"


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
    """
    reason = unavailable_reason()
    if reason:
        log(f"Grading engine: none separate ({reason}); grading uses the lab engine.")
        return None
    lab_bridge = _link_exists(LAB_BRIDGE)

    missing = [pkg for tool, pkg in (("iptables", "iptables"), ("ip", "iproute2")) if not shutil.which(tool)]
    if missing:
        apt_install(missing, log)
    _refuse_another_checkouts_engine()
    d = _dir()
    d.mkdir(parents=True, exist_ok=True)
    engine = GradingEngine(f"unix://{_socket()}", str(d / "state"), GRADING_REGISTRY_PORT)
    _network_up()
    if not _answers(engine):
        _start_dockerd(engine, log, wait_seconds)
        if lab_bridge and not _link_exists(LAB_BRIDGE):  # never leave the lab engine without its bridge
            stop_grading_engine(log)
            raise SetupError(
                f"Starting the grading engine removed the lab engine's bridge {LAB_BRIDGE}.",
                "Restart the lab engine (`python -m helpers env down`, then `make lab`) and "
                f"report this with {_dir() / 'dockerd.log'}.",
            )
    grader = _client(engine)
    _empty(grader, log)
    lab = get_client()
    for kind in ("slim", "full"):
        ref = base_image(kind, lab)
        _copy_image(lab, grader, ref, log)
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
    path = _dir() / "engine.json"
    if path.exists():
        engine = GradingEngine(**json.loads(path.read_text()))
        if _answers(engine):
            return True, f"separate engine {engine.docker_host}, registry 127.0.0.1:{engine.registry_port}"
    return False, "not running (`make autograde` starts it)"


def grading_engine_env(engine: GradingEngine | None) -> dict[str, str]:
    """What to add to a grader process's environment so its engine work goes to ``engine``."""
    return {GRADING_ENV: json.dumps(asdict(engine))} if engine else {}


def current_grading_engine() -> GradingEngine | None:
    """The grading engine this process was given (:data:`GRADING_ENV`), if any."""
    raw = os.environ.get(GRADING_ENV)
    return GradingEngine(**json.loads(raw)) if raw else None


@contextlib.contextmanager
def using_grading_engine(engine: GradingEngine | None = None) -> Iterator[GradingEngine | None]:
    """Within the block, the kit's engine and registry calls go to the grading engine (if any)."""
    engine = engine or current_grading_engine()
    if engine is None:
        yield None
        return
    saved = {k: os.environ.get(k) for k in engine.env()}
    os.environ.update(engine.env())
    try:
        yield engine
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def stop_grading_engine(log: Log = print) -> bool:
    """Stop the grading registry and engine, and remove the bridge and firewall rules they used."""

    stopped = False
    d = _dir()
    reg_pid = d / "state" / "registry" / "registry.pid"
    path = d / "engine.json"
    if _pid_alive(d / "dockerd.pid") and path.exists():
        with contextlib.suppress(Exception):  # a lab's networks: their bridges would outlive the engine
            _client(GradingEngine(**json.loads(path.read_text())), timeout=20).networks.prune()
    for pidfile, name in ((reg_pid, "grading registry"), (d / "dockerd.pid", "grading engine")):
        pid = terminate(pidfile)
        if pid:
            log(f"Stopped the {name} (pid {pid}).")
            stopped = True
    if shutil.which("iptables") and not os.environ.get("DOCKER_HOST"):
        _network_down()
    return stopped


# ------------------------------------------------------------------ engine


def grading_client(engine: GradingEngine | None = None) -> Any:
    """A docker-py client of the grading engine (the running one by default)."""
    if engine is None:
        path = _dir() / "engine.json"
        if not path.exists():
            raise EngineUnavailable("no grading engine has been started", "Run `make autograde` (as root).")
        engine = GradingEngine(**json.loads(path.read_text()))
    return _client(engine)


def _client(engine: GradingEngine, timeout: int = 300) -> Any:
    import docker

    return docker.DockerClient(base_url=engine.docker_host, timeout=timeout)


def _answers(engine: GradingEngine) -> bool:
    if not _socket().exists():
        return False
    try:
        _client(engine, timeout=5).ping()
    except Exception:  # noqa: BLE001
        return False
    return True


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def _refuse_another_checkouts_engine() -> None:
    """One grading engine per machine: its bridge and registry port are the machine's."""

    for other in RUN_BASE.glob("course-grading-*"):
        owner = other / "owner"
        if other == _run_dir() or not owner.exists():
            continue
        state = Path(owner.read_text().strip())
        if _pid_alive(state / "dockerd.pid"):
            raise SetupError(
                f"Another checkout's grading engine is running ({state}).",
                "Stop it with that checkout's `python -m helpers env down`, then run again.",
            )


def _start_dockerd(engine: GradingEngine, log: Log, wait_seconds: int) -> None:
    from helpers.engine.daemon import BRIDGE_IP, DOCKERD, _remove_stale_pidfile

    d = _dir()
    pidfile = d / "dockerd.pid"
    _remove_stale_pidfile(pidfile, "dockerd")
    (d / "daemon.json").write_text("{}\n")  # not the lab engine's /etc/docker/daemon.json
    # dockerd deletes the host's docker0 (the lab engine's bridge!) when it starts with an address pool
    # and finds its own "bridge" network from an earlier run in its store (moby: "Clear stale bridge
    # network"). Its networks are throwaway: start it without that store.
    shutil.rmtree(d / "data" / "network", ignore_errors=True)
    logfile = d / "dockerd.log"
    _run_dir().mkdir(mode=0o700, exist_ok=True)
    (_run_dir() / "owner").write_text(str(d) + "\n")
    cmd = [
        DOCKERD,
        f"--config-file={d / 'daemon.json'}",
        f"--data-root={d / 'data'}",
        f"--exec-root={_run_dir()}",
        f"--pidfile={pidfile}",
        f"--host={engine.docker_host}",
        f"--bridge={GRADING_BRIDGE}",
        f"--default-address-pool={_POOL}",
        "--iptables=false",
        "--ip-masq=false",
        f"--dns={BRIDGE_IP}",
    ]
    log(f"Starting the grading engine (log: {logfile})...")
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-5:])
            raise EngineUnavailable(
                f"the grading engine exited with status {proc.returncode}:\n{tail}", f"Read {logfile}."
            )
        if _answers(engine):
            return
        time.sleep(0.5)
    raise EngineUnavailable(f"the grading engine did not answer within {wait_seconds} s", f"Read {logfile}.")


def _empty(client: Any, log: Log) -> None:
    """Remove every container, network and image but the base images (all made by grading, in its own engine)."""

    keep = set(LOCAL.values()) | set(OFFICIAL.values())
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


# ------------------------------------------------------------------ network


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SetupError(
            f"{' '.join(cmd)} failed: {proc.stderr.strip()[:300]}",
            "The grading engine needs root and iptables; run `make autograde` as root.",
        )
    return proc


#: The grading networks' rules, top to bottom (G = GRADING_SUBNET): within G; out through NAT on
#: HTTP and HTTPS only (package indexes); DNS from the relay on the lab bridge; nothing to or from
#: the lab engine's networks (172.16/12, 192.168/16) and no other service of this host.
_RULES: list[tuple[str, str, list[str]]] = [
    ("nat", "POSTROUTING", ["-s", GRADING_SUBNET, "!", "-d", GRADING_SUBNET, "-j", "MASQUERADE"]),
    (
        "filter",
        "FORWARD",
        ["-d", GRADING_SUBNET, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
    ),
    ("filter", "FORWARD", ["-s", GRADING_SUBNET, "-d", "172.16.0.0/12", "-j", "DROP"]),
    ("filter", "FORWARD", ["-s", GRADING_SUBNET, "-d", "192.168.0.0/16", "-j", "DROP"]),
    ("filter", "FORWARD", ["-s", GRADING_SUBNET, "-d", GRADING_SUBNET, "-j", "ACCEPT"]),
    ("filter", "FORWARD", ["-s", GRADING_SUBNET, "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-j", "ACCEPT"]),
    ("filter", "FORWARD", ["-s", GRADING_SUBNET, "-j", "DROP"]),
    ("filter", "FORWARD", ["-d", GRADING_SUBNET, "-j", "DROP"]),
    ("filter", "INPUT", ["-s", GRADING_SUBNET, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"]),
    ("filter", "INPUT", ["-s", GRADING_SUBNET, "-p", "udp", "--dport", "53", "-j", "ACCEPT"]),
    ("filter", "INPUT", ["-s", GRADING_SUBNET, "-p", "tcp", "--dport", "53", "-j", "ACCEPT"]),
    ("filter", "INPUT", ["-s", GRADING_SUBNET, "-j", "DROP"]),
]


def _network_up() -> None:
    """Create the grading bridge and its rules, above the lab engine's, in :data:`_RULES` order."""
    if _run(["ip", "link", "show", GRADING_BRIDGE], check=False).returncode != 0:
        _run(["ip", "link", "add", GRADING_BRIDGE, "type", "bridge"])
    if _GATEWAY.split("/")[0] + "/" not in _run(["ip", "-4", "addr", "show", GRADING_BRIDGE]).stdout:
        _run(["ip", "addr", "add", _GATEWAY, "dev", GRADING_BRIDGE])
    _run(["ip", "link", "set", GRADING_BRIDGE, "up"])
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
    _remove_rules()
    for table, chain, rule in reversed(_RULES):
        _run(["iptables", "-t", table, "-I", chain, "1", *rule, "-m", "comment", "--comment", RULE_COMMENT])


def _remove_rules() -> None:
    """Remove every rule carrying this module's comment (this version's or an older one's); nothing else."""
    import shlex

    for table in ("filter", "nat"):
        listing = _run(["iptables", "-t", table, "-S"], check=False).stdout
        for line in listing.splitlines():
            if line.startswith("-A ") and f"--comment {RULE_COMMENT}" in line:
                _run(["iptables", "-t", table, "-D", *shlex.split(line)[1:]], check=False)


def _network_down() -> None:
    """Remove this module's rules and its bridge."""
    _remove_rules()
    if _run(["ip", "link", "show", GRADING_BRIDGE], check=False).returncode == 0:
        _run(["ip", "link", "delete", GRADING_BRIDGE], check=False)
