"""Plots of the gradebook: the score distribution per lab."""

from __future__ import annotations

from typing import Any

from helpers.figures import axes

__all__ = ["plot_score_distribution"]


def plot_score_distribution(grades: Any, ax: Any = None) -> Any:
    """Box plot plus every student's score (as % of the maximum), one column per lab.

    Args:
        grades: The DataFrame from :func:`helpers.grading.course.grades` (nbgrader's export columns
            ``assignment``, ``student_id``, ``score``, ``max_score``).
        ax: Matplotlib Axes to draw on (a new figure when None).

    Returns:
        The Axes.
    """
    ax = axes(ax, (7, 3.5))
    df = grades[grades["max_score"] > 0].copy()
    df["percent"] = 100 * df["score"] / df["max_score"]
    labs = sorted(df["assignment"].unique())
    data = [df.loc[df["assignment"] == a, "percent"].to_numpy() for a in labs]
    if labs:
        ax.boxplot(data, showfliers=False)
        for i, values in enumerate(data, start=1):
            jitter = [i + 0.08 * ((k % 5) - 2) for k in range(len(values))]
            ax.scatter(jitter, values, s=14, alpha=0.7)
        ax.set_xticks(range(1, len(labs) + 1), [f"{a}\n(n={len(v)})" for a, v in zip(labs, data, strict=True)])
    ax.set_ylim(-5, 105)
    ax.set_ylabel("score (% of max)")
    ax.set_title("Score distribution per lab (from the gradebook)")
    return ax
