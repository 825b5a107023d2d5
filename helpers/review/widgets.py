"""Critique first, then compare: a widget that puts the student's critique beside the reviewer's findings."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers.review.rules import review_dockerfile

__all__ = ["critique_widget", "numbered"]


def numbered(text: str) -> str:
    """Dockerfile text as HTML with line numbers."""
    lines = text.replace("\r\n", "\n").split("\n")
    body = "\n".join(f"{i:>3} | {html.escape(line)}" for i, line in enumerate(lines, 1))
    return f"<pre style='font-size:12px;line-height:1.3'>{body}</pre>"


def _findings_html(findings: Sequence[Any]) -> str:
    colors = {"error": "#b00", "warning": "#b60", "info": "#06c", "style": "#555"}
    rows = "".join(
        f"<tr><td>{f.line}</td><td style='color:{colors.get(f.severity, '#000')}'>{f.severity}</td>"
        f"<td><code>{f.rule}</code></td><td>{html.escape(f.message)}<br><i>fix: {html.escape(f.fix)}</i></td></tr>"
        for f in findings
    )
    return f"<table><tr><th>line</th><th>severity</th><th>rule</th><th>finding and fix</th></tr>{rows}</table>"


def critique_widget(paths: Sequence[str | Path], hadolint: bool = True) -> Any:
    """A widget: pick a Dockerfile, write a critique, then reveal the reviewer's findings beside it.

    Args:
        paths: The Dockerfiles to choose from (the gallery).
        hadolint: Include hadolint's findings.

    Returns:
        An ``ipywidgets.VBox``; ``widget.notes`` maps file name -> the critique typed so far.
    """
    import ipywidgets as w

    paths = [Path(p) for p in paths]
    picker = w.Dropdown(
        options=[(p.name, str(p)) for p in paths], description="Dockerfile", layout=w.Layout(width="60%")
    )
    source = w.HTML()
    notes = w.Textarea(
        placeholder="Your critique first: one problem per line, e.g. `5: copies the source before pip install`",
        layout=w.Layout(width="100%", height="160px"),
    )
    button = w.Button(description="Compare with the reviewer", button_style="info", layout=w.Layout(width="auto"))
    left, right = w.HTML(), w.HTML()
    saved: dict[str, str] = {}

    def load(change: Any = None) -> None:
        p = Path(picker.value)
        source.value = numbered(p.read_text(encoding="utf-8"))
        notes.value = saved.get(p.name, "")
        left.value = right.value = ""

    def compare(_b: Any = None) -> None:
        p = Path(picker.value)
        saved[p.name] = notes.value
        mine = [ln for ln in notes.value.splitlines() if ln.strip()]
        left.value = (
            "<h4>Your critique</h4><ol>" + "".join(f"<li>{html.escape(m)}</li>" for m in mine) + "</ol>"
            if mine
            else "<h4>Your critique</h4><i>(empty: write yours first)</i>"
        )
        right.value = "<h4>The reviewer</h4>" + _findings_html(review_dockerfile(p, hadolint=hadolint))

    picker.observe(load, names="value")
    notes.observe(lambda c: saved.__setitem__(Path(picker.value).name, c["new"]), names="value")
    button.on_click(compare)
    load()
    box = w.VBox(
        [
            picker,
            source,
            notes,
            button,
            w.HBox([left, right], layout=w.Layout(align_items="flex-start", grid_gap="24px")),
        ]
    )
    box.notes = saved  # type: ignore[attr-defined]
    box.compare = compare  # type: ignore[attr-defined]
    return box
