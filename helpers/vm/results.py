"""The measurement table: one row per figure, measured here or published elsewhere.

Every measurement of the containers-versus-VMs lesson returns a DataFrame with the same
:data:`COLUMNS`, so the notebook can concatenate, plot and compare them. ``source`` says whether
a figure was ``"measured"`` on this machine or ``"published"`` by a vendor; plots draw only the
measured ones.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COLUMNS", "measurement_row", "published_vm_figures"]

#: Columns of every measurement DataFrame.
COLUMNS = ["platform", "metric", "value", "unit", "source", "note"]
#: Bytes in a MiB.
MIB = 1024 * 1024


def measurement_row(
    platform: str, metric: str, value: float, unit: str, source: str = "measured", note: str = ""
) -> dict[str, Any]:
    """One row of a measurement DataFrame.

    Args:
        platform: "container", "vm", ...
        metric: What was measured ("start-up", "memory idle" ...).
        value: The figure.
        unit: Its unit ("s", "MiB" ...).
        source: "measured" here, or "published".
        note: How it was measured, or where it was published.

    Returns:
        A dict with the :data:`COLUMNS` as keys.
    """
    return {"platform": platform, "metric": metric, "value": float(value), "unit": unit, "source": source, "note": note}


def load_rows(platform: str, peak_bytes: list[int], cpu_seconds: float, load: Any, memory_note: str) -> list[dict]:
    """The rows of a load run: peak memory, CPU seconds during the load, requests per second.

    Args:
        platform: "container" or "vm".
        peak_bytes: Memory samples taken during the load (bytes).
        cpu_seconds: CPU seconds used during the load.
        load: The :class:`helpers.vm.loadgen.LoadResult`.
        memory_note: How the memory was sampled.

    Returns:
        Three rows, in the order the tables show them.
    """
    return [
        measurement_row(platform, "memory under load", max(peak_bytes) / MIB, "MiB", note=memory_note),
        measurement_row(platform, "CPU during load", cpu_seconds, "s", note=f"{load.seconds:.1f} s of load"),
        measurement_row(
            platform, "requests per second", load.per_second, "req/s", note=f"{load.requests} ok, {load.errors} errors"
        ),
    ]


#: Firecracker's published specification (not measured here).
FIRECRACKER_SOURCE = "https://github.com/firecracker-microvm/firecracker/blob/main/SPECIFICATION.md"


def published_vm_figures() -> Any:
    """Firecracker's published start-up and memory overhead, labelled ``source="published"``.

    For when no VM can be started here. These are a vendor's specification on an i3.metal
    host (2 vCPUs, 256 MiB guest), not measurements: never plot them as measured.
    """
    import pandas as pd

    p, src = "vm (Firecracker)", "published"
    note = f"Firecracker specification, i3.metal, 2 vCPU / 256 MiB guest: {FIRECRACKER_SOURCE}"
    rows = [
        measurement_row(
            p,
            "start-up",
            0.125,
            "s",
            src,
            "<= 125 ms from InstanceStart to guest /sbin/init (the app's own start-up comes on top); " + note,
        ),
        measurement_row(
            p, "memory overhead", 5, "MiB", src, "<= 5 MiB for the VMM threads, plus the guest's own memory; " + note
        ),
        measurement_row(p, "guest memory", 256, "MiB", src, "memory given to the guest in that specification; " + note),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)
