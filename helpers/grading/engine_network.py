"""The grading engine's network: its own bridge and the firewall rules that fence it in.

Every grading network lives in :data:`GRADING_SUBNET`. The rules let grading containers reach each other,
the package indexes (HTTP/HTTPS out through NAT) and the DNS relay, and nothing else: not the lab engine's
networks, not this host's other services. Each rule carries :data:`RULE_COMMENT`, so this module removes
only its own rules (also an older version's).
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from helpers.errors import SetupError

__all__ = [
    "GRADING_BRIDGE",
    "GRADING_SUBNET",
    "LAB_BRIDGE",
    "RULE_COMMENT",
    "network_up",
    "network_down",
    "link_exists",
]

GRADING_BRIDGE = "course-grade0"
#: The lab engine's bridge, which the grading engine must leave alone.
LAB_BRIDGE = "docker0"
#: Every grading network (the bridge's /24 and the pool of the networks a lab creates) is in here.
GRADING_SUBNET = "10.213.0.0/16"
GATEWAY = "10.213.0.1/24"
#: dockerd's ``--default-address-pool`` for the networks a lab creates.
POOL = "base=10.213.128.0/17,size=24"
#: iptables comment on every rule this module adds (so it removes only its own).
RULE_COMMENT = "course-grading"

#: Ranges no grading build or container may reach, whatever the port: private (10/8 beyond the grading
#: networks; 172.16/12 and 192.168/16 are dropped above), carrier-grade NAT, link-local (cloud metadata at
#: 169.254.169.254), loopback, "this network", multicast and reserved. What is left is the public internet
#: on ports 80 and 443: the package indexes. (A site whose package mirror has a private address must
#: give its grading builds a public one.)
NOT_PUBLIC = (
    "10.0.0.0/8",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "0.0.0.0/8",
    "224.0.0.0/3",
)

#: The grading networks' rules, top to bottom (G = GRADING_SUBNET): within G; out through NAT on
#: HTTP and HTTPS only (package indexes) on public addresses (:data:`NOT_PUBLIC`); DNS from the relay on
#: the lab bridge; nothing to or from the lab engine's networks (172.16/12, 192.168/16) and no other
#: service of this host.
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
    *[("filter", "FORWARD", ["-s", GRADING_SUBNET, "-d", net, "-j", "DROP"]) for net in NOT_PUBLIC],
    ("filter", "FORWARD", ["-s", GRADING_SUBNET, "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-j", "ACCEPT"]),
    ("filter", "FORWARD", ["-s", GRADING_SUBNET, "-j", "DROP"]),
    ("filter", "FORWARD", ["-d", GRADING_SUBNET, "-j", "DROP"]),
    ("filter", "INPUT", ["-s", GRADING_SUBNET, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"]),
    ("filter", "INPUT", ["-s", GRADING_SUBNET, "-p", "udp", "--dport", "53", "-j", "ACCEPT"]),
    ("filter", "INPUT", ["-s", GRADING_SUBNET, "-p", "tcp", "--dport", "53", "-j", "ACCEPT"]),
    ("filter", "INPUT", ["-s", GRADING_SUBNET, "-j", "DROP"]),
]


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SetupError(
            f"{' '.join(cmd)} failed: {proc.stderr.strip()[:300]}",
            "The grading engine needs root and iptables; run `make autograde` as root.",
        )
    return proc


def link_exists(name: str) -> bool:
    """True when this host has a network interface called ``name``."""
    return Path("/sys/class/net", name).exists()


def network_up() -> None:
    """Create the grading bridge and its rules, above the lab engine's, in :data:`_RULES` order.

    Raises:
        SetupError: ``ip`` or ``iptables`` failed (not root, or not installed).
    """
    if _run(["ip", "link", "show", GRADING_BRIDGE], check=False).returncode != 0:
        _run(["ip", "link", "add", GRADING_BRIDGE, "type", "bridge"])
    if GATEWAY.split("/")[0] + "/" not in _run(["ip", "-4", "addr", "show", GRADING_BRIDGE]).stdout:
        _run(["ip", "addr", "add", GATEWAY, "dev", GRADING_BRIDGE])
    _run(["ip", "link", "set", GRADING_BRIDGE, "up"])
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
    _remove_rules()
    for table, chain, rule in reversed(_RULES):
        _run(["iptables", "-t", table, "-I", chain, "1", *rule, "-m", "comment", "--comment", RULE_COMMENT])


def _remove_rules() -> None:
    """Remove every rule carrying this module's comment (this version's or an older one's); nothing else."""
    for table in ("filter", "nat"):
        listing = _run(["iptables", "-t", table, "-S"], check=False).stdout
        for line in listing.splitlines():
            if line.startswith("-A ") and f"--comment {RULE_COMMENT}" in line:
                _run(["iptables", "-t", table, "-D", *shlex.split(line)[1:]], check=False)


def network_down() -> None:
    """Remove this module's rules and its bridge."""
    _remove_rules()
    if _run(["ip", "link", "show", GRADING_BRIDGE], check=False).returncode == 0:
        _run(["ip", "link", "delete", GRADING_BRIDGE], check=False)
