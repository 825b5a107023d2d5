"""Do the lesson diagrams render, in a light and a dark theme, and stay readable in both?"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgb

from helpers.lessons import diagrams

LIGHT_BG, DARK_BG = "#ffffff", "#111111"  # JupyterLab's light and dark backgrounds


def luminance(color) -> float:
    def chan(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (chan(c) for c in to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


FIGURES = {
    "client_daemon_registry": lambda ax: diagrams.client_daemon_registry(ax=ax),
    "client_daemon_registry_calls": lambda ax: diagrams.client_daemon_registry(
        ax=ax, calls=[f"POST /containers/{i}/start" for i in range(9)]
    ),
    "layer_stack_generic": lambda ax: diagrams.layer_stack(ax=ax),
    "layer_stack_measured": lambda ax: diagrams.layer_stack(
        [("(base)", 113_000_000), ("RUN pip install " + "x" * 80, 3_100_000), ("COPY app.py .", 113)], ax=ax, title="t"
    ),
    "container_vs_vm": lambda ax: diagrams.container_vs_vm(ax=ax, kernel="6.1.0-test"),
    "pipeline_map": lambda ax: diagrams.pipeline_map(ax=ax),
    "runtime_map": lambda ax: diagrams.runtime_map(ax=ax),
}


def _inside_a_patch(ax, text) -> bool:
    fig = ax.figure
    fig.canvas.draw()
    x, y = text.get_window_extent().get_points().mean(axis=0)
    return any(p.get_window_extent().contains(x, y) for p in ax.patches)


def check_theme_neutral(draw, style) -> None:
    """Render ``draw(ax)`` in ``style`` and check: returns the Axes, transparent, all text readable."""
    with plt.style.context(style):
        fig, ax = plt.subplots()
        returned = draw(ax)
        assert returned is ax
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        assert buf.tell() > 1000
        assert fig.patch.get_alpha() == 0.0
        assert ax.get_facecolor()[3] == 0.0
        texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip() and t.get_visible()]
        assert texts, "a diagram without any text explains nothing"
        for t in texts:
            color = t.get_color()
            if to_rgb(color) == to_rgb("white"):
                assert _inside_a_patch(ax, t), f"white text outside a box is invisible on light: {t.get_text()!r}"
            else:
                assert contrast(color, LIGHT_BG) >= 3 and contrast(color, DARK_BG) >= 3, (t.get_text(), color)
        plt.close(fig)


@pytest.mark.parametrize("style", ["default", "dark_background"])
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_renders_transparent_and_readable(name, style):
    """Does each diagram render in both themes with a transparent background and readable text only?"""
    check_theme_neutral(FIGURES[name], style)


def test_new_axes_when_none_given():
    """Does a diagram make its own figure when no Axes is passed?"""
    ax = diagrams.container_vs_vm()
    assert ax.figure is not None
    plt.close(ax.figure)


@pytest.mark.parametrize("color", sorted(diagrams.PALETTE.values()))
def test_palette_readable_on_both_themes(color):
    """Does white text read on every fill, and does every fill stand out on light and dark backgrounds?"""
    assert contrast("white", color) >= 3
    assert contrast(color, LIGHT_BG) >= 3
    assert contrast(color, DARK_BG) >= 2


def test_neutral_grey_reads_on_both_backgrounds():
    """Is the grey used outside boxes readable on white and on near-black?"""
    assert contrast(diagrams.NEUTRAL, LIGHT_BG) >= 3
    assert contrast(diagrams.NEUTRAL, DARK_BG) >= 3


def test_human_sizes():
    """Are byte counts shown in readable units?"""
    assert diagrams._human(113) == "113 B"
    assert diagrams._human(3_100_000) == "3.1 MB"
    assert diagrams._human(2_500_000_000) == "2.5 GB"
