"""The one place a plot gets its Axes.

Every plotting function in the kit takes ``ax=None`` and returns the Axes it drew on (so a notebook
can put several plots in one figure, or let each plot make its own). This module owns that rule:
:func:`axes` returns the Axes it is given, or a new figure's Axes of the plot's preferred size.
matplotlib is imported only when a new figure is needed, so importing ``helpers`` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["axes"]

#: Size (width, height in inches) of a new figure when a plot does not ask for one.
DEFAULT_SIZE = (7.0, 3.0)


def axes(ax: Any = None, size: tuple[float, float] = DEFAULT_SIZE) -> Any:
    """The Axes to draw on: ``ax`` itself, or the Axes of a new figure of ``size``.

    Args:
        ax: A matplotlib Axes the caller wants the plot on, or None for a new figure.
        size: Width and height (inches) of the new figure; ignored when ``ax`` is given.

    Returns:
        A matplotlib Axes.
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=size)
    return new
