"""Do the charts of measurements render in both themes, readable, and say what was measured?"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from helpers.lessons import plots as plots_lessons

from .test_diagrams import check_theme_neutral

STEPS = pd.DataFrame(
    {
        "instruction": ["COPY requirements.txt .", "RUN pip install -r requirements.txt", "COPY . ."],
        "cached": [True, True, False],
        "seconds": [0.0, 0.0, 0.4],
    }
)
TIMELINE = pd.DataFrame({"seconds": [0.0, 1.2, 4.5], "status": ["starting", "healthy", "unhealthy"]})

CHARTS = {
    "build_steps_chart": lambda ax: plots_lessons.build_steps_chart({"a": STEPS, "b": STEPS}, ax=ax),
    "measured_bars": lambda ax: plots_lessons.measured_bars(
        ["x", "y"], {"size": [3.0, 1.0], "free": [1.0, 0.5]}, "MB", ax=ax, title="t"
    ),
    "status_timeline": lambda ax: plots_lessons.status_timeline(TIMELINE, ax=ax),
}


@pytest.mark.parametrize("style", ["default", "dark_background"])
@pytest.mark.parametrize("name", sorted(CHARTS))
def test_chart_renders_transparent_and_readable(name, style):
    """Does each chart render in both themes with a transparent background and readable text only?"""
    check_theme_neutral(CHARTS[name], style)


def test_build_steps_chart_labels_cached_steps():
    """Are cached steps labelled "cached" and steps that ran labelled with their seconds?"""
    import matplotlib.pyplot as plt

    ax = plots_lessons.build_steps_chart({"b": STEPS})
    labels = [t.get_text().strip() for t in ax.texts]
    assert labels == ["cached", "cached", "0.4 s"]
    plt.close(ax.figure)


def test_numbers_on_bars_are_short():
    """Are measured values printed plainly (no scientific notation)?"""
    assert plots_lessons._number(2384.7) == "2,385"
    assert plots_lessons._number(26.94) == "26.9"
    assert plots_lessons._number(0.3271) == "0.327"
