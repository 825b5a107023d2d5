"""Turn measured memory into a monthly bill: containers on shared hosts versus one VM per replica.

Prices and machine sizes are parameters. The defaults are published list prices of one
cloud family, given as an example to replace with your provider's (see :data:`PRICE_SOURCE`);
they are never measurements. The memory per replica comes from what the notebook measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "InstanceType",
    "EXAMPLE_INSTANCES",
    "PRICE_SOURCE",
    "HOURS_PER_MONTH",
    "CostParams",
    "figure",
    "replicas_per_host",
    "smallest_instance",
    "monthly_cost",
    "density",
]

HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class InstanceType:
    """A machine size you can rent.

    Attributes:
        name: The provider's name for it.
        vcpus: Virtual CPUs.
        memory_gib: Memory in GiB.
        hourly_usd: Price per hour in US dollars.
    """

    name: str
    vcpus: int
    memory_gib: float
    hourly_usd: float

    @property
    def monthly_usd(self) -> float:
        return self.hourly_usd * HOURS_PER_MONTH

    @property
    def memory_mib(self) -> float:
        return self.memory_gib * 1024


#: Example sizes and prices: AWS EC2 t3 family, Linux on-demand, us-east-1 (published list prices).
EXAMPLE_INSTANCES: tuple[InstanceType, ...] = (
    InstanceType("t3.nano", 2, 0.5, 0.0052),
    InstanceType("t3.micro", 2, 1, 0.0104),
    InstanceType("t3.small", 2, 2, 0.0208),
    InstanceType("t3.medium", 2, 4, 0.0416),
    InstanceType("t3.large", 2, 8, 0.0832),
    InstanceType("t3.xlarge", 4, 16, 0.1664),
)
PRICE_SOURCE = (
    "published AWS EC2 on-demand list prices, t3 family, Linux, us-east-1 "
    "(https://aws.amazon.com/ec2/pricing/on-demand/); an example: use your provider's prices"
)


@dataclass
class CostParams:
    """The assumptions of the cost model (every one a parameter).

    Attributes:
        host: Machine that runs the containers (several replicas share it).
        vm_sizes: Sizes a one-VM-per-replica deployment chooses from (smallest that fits).
        host_reserved_mib: Memory each container host keeps for its OS and the engine.
        headroom: Fraction of memory kept free on every machine (0.2 = plan to 80 %).
    """

    host: InstanceType = EXAMPLE_INSTANCES[-1]
    vm_sizes: Sequence[InstanceType] = field(default_factory=lambda: EXAMPLE_INSTANCES)
    host_reserved_mib: float = 512
    headroom: float = 0.2


def figure(measurements: Any, platform: str, metric: str, source: str = "measured") -> float:
    """One value from a measurement DataFrame (platform, metric, source).

    Raises:
        KeyError: No such figure.
    """
    m = measurements
    rows = m[(m["platform"] == platform) & (m["metric"] == metric) & (m["source"] == source)]
    if rows.empty:
        raise KeyError(f"no {source} figure {metric!r} for {platform!r}")
    return float(rows["value"].iloc[0])


def replicas_per_host(
    per_replica_mib: float, host: InstanceType, reserved_mib: float = 512, headroom: float = 0.2
) -> int:
    """How many replicas of ``per_replica_mib`` fit on one ``host``."""
    if per_replica_mib <= 0:
        raise ValueError("memory per replica must be positive")
    usable = (host.memory_mib - reserved_mib) * (1 - headroom)
    return max(int(usable // per_replica_mib), 0)


def smallest_instance(memory_mib: float, sizes: Sequence[InstanceType], headroom: float = 0.2) -> InstanceType:
    """The cheapest size whose memory, less ``headroom``, holds ``memory_mib``.

    Raises:
        ValueError: None is big enough.
    """
    fitting = [s for s in sizes if s.memory_mib * (1 - headroom) >= memory_mib]
    if not fitting:
        raise ValueError(f"no instance size holds {memory_mib:.0f} MiB with {headroom:.0%} headroom")
    return min(fitting, key=lambda s: s.hourly_usd)


def monthly_cost(replicas: Sequence[int], container_mib: float, vm_mib: float, params: CostParams | None = None) -> Any:
    """Monthly cost of N replicas, as containers on shared hosts and as one VM each.

    Args:
        replicas: The replica counts to price.
        container_mib: Memory one container replica needs (measured).
        vm_mib: Memory one VM replica needs (measured qemu RSS, or a published figure).
        params: Prices, sizes and headroom (default :class:`CostParams`).

    Returns:
        DataFrame: ``replicas``, ``platform`` ("containers" / "VMs"), ``machines``,
        ``machine_type``, ``per_machine``, ``monthly_usd``.

    Raises:
        ValueError: A replica does not fit on any machine size.
    """
    import pandas as pd

    p = params or CostParams()
    per_host = replicas_per_host(container_mib, p.host, p.host_reserved_mib, p.headroom)
    if per_host < 1:
        raise ValueError(f"one container ({container_mib:.0f} MiB) does not fit on {p.host.name}")
    vm_type = smallest_instance(vm_mib, p.vm_sizes, p.headroom)
    rows = []
    for n in replicas:
        hosts = math.ceil(n / per_host)
        rows.append(
            {
                "replicas": n,
                "platform": "containers",
                "machines": hosts,
                "machine_type": p.host.name,
                "per_machine": per_host,
                "monthly_usd": hosts * p.host.monthly_usd,
            }
        )
        rows.append(
            {
                "replicas": n,
                "platform": "VMs",
                "machines": n,
                "machine_type": vm_type.name,
                "per_machine": 1,
                "monthly_usd": n * vm_type.monthly_usd,
            }
        )
    return pd.DataFrame(
        rows, columns=["replicas", "platform", "machines", "machine_type", "per_machine", "monthly_usd"]
    )


def density(budget_mib: float, container_mib: float, vm_mib: float) -> Any:
    """How many replicas fit in a memory budget, as containers and as VMs.

    Returns:
        DataFrame: ``platform``, ``per_replica_mib``, ``budget_mib``, ``replicas``.
    """
    import pandas as pd

    rows = [
        {
            "platform": name,
            "per_replica_mib": mib,
            "budget_mib": budget_mib,
            "replicas": int(budget_mib // mib) if mib > 0 else 0,
        }
        for name, mib in (("containers", container_mib), ("VMs", vm_mib))
    ]
    return pd.DataFrame(rows, columns=["platform", "per_replica_mib", "budget_mib", "replicas"])
