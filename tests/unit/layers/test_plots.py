"""Do the layer and review pictures and widgets draw from an analysis without an engine?"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from kitroot import ROOT

from helpers.archive.demo import write_demo_archive
from helpers.layers.analysis import analyze_layers
from helpers.layers.plots import plot_dive_vs_true, plot_layer_stack, plot_top_dirs, plot_wasted_paths
from helpers.layers.widgets import layer_explorer
from helpers.review.widgets import critique_widget

GALLERY = ROOT / "notebooks" / "data" / "dockerfiles"


def test_plots_return_their_axes(tmp_path):
    """Does each plot draw on the Axes it is given (or a new one) and return it, with data on it?"""
    a = analyze_layers(str(write_demo_archive(tmp_path / "demo.tar")))
    fig, axes = plt.subplots(1, 4)
    assert plot_layer_stack({"demo": a}, ax=axes[0]) is axes[0] and len(axes[0].patches) == len(a.layers)
    assert plot_wasted_paths(a, n=3, ax=axes[1]) is axes[1] and len(axes[1].patches) >= 3
    assert plot_top_dirs(a, ax=axes[2]) is axes[2] and axes[2].patches
    assert plot_dive_vs_true({"demo": a}, ax=axes[3]) is axes[3]
    heights = sorted(p.get_height() for p in axes[3].patches)
    assert heights == sorted([a.wasted_bytes / 1e6, a.true_wasted_bytes / 1e6])
    assert plot_wasted_paths(a).figure is not fig
    plt.close("all")


def test_layer_explorer_follows_the_picker(tmp_path):
    """Does picking a layer show that layer's command and changes?"""
    a = analyze_layers(str(write_demo_archive(tmp_path / "demo.tar")))
    box = layer_explorer(a)
    picker, head, table = box.children
    picker.value = 1
    assert "pip install" in head.value and "wheels.bin" in table.value


def test_critique_widget_compares_after_writing():
    """Does the critique widget keep the student's notes and show the reviewer's findings only on compare?"""
    box = critique_widget(sorted(GALLERY.glob("*.Dockerfile"))[:2], hadolint=False)
    notes = box.children[2]
    left, right = box.children[4].children
    assert right.value == ""
    notes.value = "2: latest tag"
    box.compare()
    assert "latest tag" in left.value and "CR006" in right.value
    assert box.notes["01-quick-start.Dockerfile"] == "2: latest tag"
