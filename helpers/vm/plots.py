"""Plots for containers versus VMs: start-up, memory, density, cost.

Each function takes the DataFrame a measurement returned and ``ax=None``, and returns the
Axes. Only rows with ``source == "measured"`` are drawn; published figures are never drawn
as measurements (a note on the plot says they were left out).
"""

from __future__ import annotations

from typing import Any

from helpers.figures import axes

__all__ = ["plot_startup", "plot_memory", "plot_density", "plot_cost"]

#: Size of a new figure (inches).
_SIZE = (6.0, 3.5)
COLORS = {"container": "#2a9d8f", "containers": "#2a9d8f", "vm": "#e76f51", "VMs": "#e76f51"}


def _measured(df: Any, ax: Any) -> Any:
    measured = df[df["source"] == "measured"]
    if len(measured) < len(df):
        ax.set_xlabel("published figures are not plotted (see the table)", fontsize=8, color="gray")
    return measured


def _bars(df: Any, metrics: list[str], ax: Any, unit: str) -> Any:
    measured = _measured(df, ax)
    platforms = list(dict.fromkeys(measured["platform"]))
    width = 0.8 / max(len(metrics), 1)
    labelled: set[str] = set()
    for j, metric in enumerate(metrics):
        for i, plat in enumerate(platforms):
            rows = measured[(measured["platform"] == plat) & (measured["metric"] == metric)]
            if rows.empty:
                continue
            v = float(rows["value"].iloc[0])
            bar = ax.bar(
                i + (j - (len(metrics) - 1) / 2) * width,
                v,
                width * 0.95,
                color=COLORS.get(plat, "gray"),
                alpha=1.0 - 0.3 * j,
                label=None if metric in labelled else metric,
            )
            labelled.add(metric)
            ax.bar_label(bar, labels=[f"{v:.0f} {unit}" if v >= 100 else f"{v:.3g} {unit}"], fontsize=8)
    ax.set_xticks(range(len(platforms)), platforms)
    ax.set_ylabel(unit)
    if not platforms:
        ax.text(0.5, 0.5, "nothing measured", ha="center", va="center", transform=ax.transAxes)
    return ax


def plot_startup(measurements: Any, ax: Any = None) -> Any:
    """Bars: seconds from start to the first HTTP 200, per platform (measured only)."""
    ax = axes(ax, _SIZE)
    _bars(measurements, ["start-up"], ax, "s")
    ax.set_title("Start to first HTTP 200")
    return ax


def plot_memory(measurements: Any, ax: Any = None) -> Any:
    """Grouped bars: memory at idle, under load and (VM) as the guest sees it, per platform (measured only)."""
    ax = axes(ax, _SIZE)
    _bars(measurements, ["memory idle", "memory under load", "guest memory in use"], ax, "MiB")
    ax.set_yscale("log")
    ax.set_ylabel("MiB (log scale)")
    ax.set_title("Memory the host pays for one replica")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return ax


def plot_density(replicas: Any, vm_mib: float | None = None, ax: Any = None) -> Any:
    """Total memory as replicas were started (from :func:`helpers.replicas_in_budget`).

    Args:
        replicas: DataFrame with ``replicas``, ``total_mib``, ``budget_mib``.
        vm_mib: Memory of one measured VM; draws n x that value, labelled as derived.
        ax: Axes to draw on.
    """
    ax = axes(ax, _SIZE)
    if len(replicas):
        ax.plot(
            replicas["replicas"], replicas["total_mib"], "o-", color=COLORS["container"], label="containers (measured)"
        )
        budget = float(replicas["budget_mib"].iloc[0])
        ax.axhline(budget, color="black", ls="--", lw=1, label=f"budget {budget:.0f} MiB")
        n = list(range(1, int(replicas["replicas"].max()) + 1))
        top = max(budget, float(replicas["total_mib"].max())) * 1.4
        if vm_mib:
            ax.plot(n, [k * vm_mib for k in n], "s:", color=COLORS["vm"], label="VMs (n x one measured VM)")
            if vm_mib > top:
                ax.annotate(
                    f"one VM alone: {vm_mib:.0f} MiB (off the chart)",
                    (0.02, 0.93),
                    xycoords="axes fraction",
                    fontsize=8,
                    color=COLORS["vm"],
                )
        ax.set_ylim(0, top)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("replicas running")
    ax.set_ylabel("MiB")
    ax.set_title("Replicas in a memory budget")
    ax.legend(fontsize=8)
    return ax


def plot_cost(costs: Any, ax: Any = None) -> Any:
    """Monthly cost against the number of replicas (from :func:`helpers.monthly_cost`)."""
    ax = axes(ax, _SIZE)
    for plat, rows in costs.groupby("platform", sort=False):
        ax.step(
            rows["replicas"],
            rows["monthly_usd"],
            where="post",
            color=COLORS.get(plat, "gray"),
            label=f"{plat} ({rows['machine_type'].iloc[0]})",
        )
    ax.set_xlabel("replicas")
    ax.set_ylabel("USD per month")
    ax.set_title("Monthly cost (example prices)")
    ax.legend(fontsize=8)
    return ax
