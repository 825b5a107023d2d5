"""The docker commands of a workflow replay: one ``do_<verb>`` method each, a docker SDK call through the kit.

:class:`ReplayOps` is every command a replay runs: the container commands (:mod:`helpers.ci.replaycontainers`),
the image commands (:mod:`helpers.ci.replayimages`) and, here, the network commands and the read-only ones
(``inspect``, ``ps``, ``network ls``), all on one :class:`~helpers.ci.replaynames.ReplayState` (the engine, the
name maps, what the run created). :mod:`helpers.ci.replayrun` subclasses it with the loop over jobs and steps and
the tear-down. A failed command raises :class:`StepFailed`; each kind has a time bound (:data:`LIMITS`).
"""

from __future__ import annotations

from helpers.ci.replaycontainers import ContainerOps
from helpers.ci.replayimages import ImageOps
from helpers.ci.replaymodel import Command
from helpers.ci.replaynames import LIMITS, LOG_LINES, Resolve, StepDone, StepFailed, norm_ref

__all__ = ["ReplayOps", "LIMITS", "LOG_LINES", "StepFailed", "StepDone", "Resolve"]


class ReplayOps(ContainerOps, ImageOps):
    """One replay's engine and names, and the docker commands it runs (``do_<verb>``, ``wait``)."""

    def do_network_create(self, cmd: Command) -> str:
        name = cmd.operands[0]
        if name in self.networks:
            raise StepFailed(f"network with name {name} already exists")
        self.networks[name] = self.c.networks.create(
            f"r{self.rid}-{name}"[:60], driver="bridge", internal=True, labels=self.labels
        )
        return f"network {name} created"

    def do_network_rm(self, cmd: Command) -> str:
        for name in cmd.operands:
            if name not in self.networks:
                raise StepFailed(f"network {name} not found")
            self.networks[name].remove()
            del self.networks[name]
        return f"network {' '.join(cmd.operands)} removed"

    def do_network_ls(self, cmd: Command) -> str:
        return f"{len(self.networks)} networks"

    def do_inspect(self, cmd: Command) -> str:
        for name in cmd.operands:
            if name not in self.containers and norm_ref(name) not in self.images and name not in self.networks:
                raise StepFailed(f"No such object: {name}")
        return f"inspected {' '.join(cmd.operands)}"

    def do_ps(self, cmd: Command) -> str:
        return f"{len(self.containers)} containers"
