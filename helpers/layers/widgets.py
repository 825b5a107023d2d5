"""An ipywidgets explorer for a layer analysis: pick a layer, see its file changes and its cost."""

from __future__ import annotations

import html
from typing import Any

__all__ = ["layer_explorer"]


def _summary(analysis: Any, index: int) -> str:
    layer = analysis.layers[index]
    share = layer.size_bytes / analysis.size_bytes * 100 if analysis.size_bytes else 0.0
    return (
        f"<b>Layer {layer.index}</b>: <code>{html.escape(layer.command[:200] or '(base)')}</code><br>"
        f"size {layer.size_bytes / 1e6:.2f} MB ({share:.1f} % of the image); "
        f"{layer.added} added, {layer.modified} modified, {layer.removed} removed; "
        f"<span style='color:#b00'>{layer.true_wasted_bytes / 1e6:.2f} MB of it invisible in the final image</span>"
    )


def layer_explorer(analysis: Any, rows: int = 25) -> Any:
    """A widget: a layer picker, the layer's cost, and its biggest file changes.

    Args:
        analysis: A :class:`~helpers.layers.analysis.LayerAnalysis`.
        rows: How many file changes to list.

    Returns:
        An ``ipywidgets.VBox`` (display it, or leave it as the cell's last expression).
    """
    import ipywidgets as w

    options = [(f"{x.index}: {(x.command or '(base)')[:70]}", x.index) for x in analysis.layers]
    picker = w.Dropdown(options=options, value=options[-1][1], description="Layer", layout=w.Layout(width="95%"))
    head = w.HTML()
    table = w.HTML()

    def show(index: int) -> None:
        head.value = _summary(analysis, index)
        df = analysis.changes_frame(index).sort_values("size_bytes", ascending=False, kind="stable").head(rows)
        wasted = analysis.wasted_frame()
        shadowed = set(wasted[wasted["layer"] == index]["path"])
        df = df.assign(invisible_later=df["path"].isin(shadowed))
        table.value = df.to_html(index=False) if not df.empty else "<i>no file changes</i>"

    picker.observe(lambda change: show(change["new"]), names="value")
    show(picker.value)
    return w.VBox([picker, head, table])
