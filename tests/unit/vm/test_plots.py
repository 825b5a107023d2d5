"""Unit tests for helpers.vm.plots: measured figures are drawn, published ones never are."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from helpers.vm.cost import monthly_cost
from helpers.vm.plots import plot_cost, plot_density, plot_memory, plot_startup
from helpers.vm.results import (
    measurement_row,
    published_vm_figures,
)


def _frame():
    rows = [
        measurement_row("container", "start-up", 0.8, "s"),
        measurement_row("vm", "start-up", 12, "s"),
        measurement_row("container", "memory idle", 33, "MiB"),
        measurement_row("vm", "memory idle", 1100, "MiB"),
        measurement_row("container", "memory under load", 35, "MiB"),
    ]
    return pd.concat([pd.DataFrame(rows), published_vm_figures()], ignore_index=True)


def test_startup_plots_only_measured_bars():
    """Are the two measured start-ups drawn and the published 0.125 s left out?"""
    ax = plot_startup(_frame())
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == [0.8, 12]
    assert "published" in ax.get_xlabel()


def test_memory_plot_groups_idle_and_load():
    """Are idle and under-load bars drawn per platform, with a legend?"""
    ax = plot_memory(_frame())
    assert sorted(p.get_height() for p in ax.patches) == [33, 35, 1100]
    assert ax.get_legend() is not None


def test_density_and_cost_plots_return_axes():
    """Do the density and cost plots draw one line per platform?"""
    reps = pd.DataFrame({"replicas": [1, 2, 3], "total_mib": [33, 66, 99], "budget_mib": [256] * 3})
    ax = plot_density(reps, vm_mib=1100)
    assert len(ax.lines) == 3  # containers, budget, VMs
    assert ax.get_ylim()[1] < 1100 and any("off the chart" in t.get_text() for t in ax.texts)
    ax = plot_cost(monthly_cost(range(1, 11), 33, 1100))
    assert len(ax.lines) == 2


def test_memory_legend_names_a_metric_only_the_vm_has():
    """Is 'guest memory in use' (VM only) in the legend, once?"""
    df = pd.concat([_frame(), pd.DataFrame([measurement_row("vm", "guest memory in use", 400, "MiB")])])
    labels = plot_memory(df).get_legend_handles_labels()[1]
    assert labels == ["memory idle", "memory under load", "guest memory in use"]
