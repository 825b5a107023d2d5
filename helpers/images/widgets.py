"""Widgets for notebooks: build progress.

:class:`BuildProgress` is a callback for ``build(..., on_line=...)`` that shows the current
step, a progress bar and the last log lines; it falls back to printing one line per step
when ipywidgets is not available (plain Python, CI logs).
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from helpers.images.progress import parse_line

__all__ = ["BuildProgress"]


class BuildProgress:
    """Show a build's progress in a notebook: ``build(ctx, on_line=BuildProgress("my image"))``.

    Args:
        title: What is being built.
        tail: How many log lines to keep visible.
        use_widgets: Force widgets on or off (default: on when ipywidgets imports).
    """

    def __init__(self, title: str = "build", tail: int = 6, use_widgets: bool | None = None) -> None:
        self.title = title
        self.lines: deque[str] = deque(maxlen=tail)
        self.current = ""
        self.steps_seen: list[str] = []
        self.cached = 0
        self._widgets: dict[str, Any] | None = None
        if use_widgets is not False:
            try:
                import ipywidgets as w
                from IPython.display import display
            except ImportError:
                if use_widgets:
                    raise
            else:
                self._widgets = {
                    "label": w.HTML(f"<b>{title}</b>: starting"),
                    "bar": w.IntProgress(value=0, min=0, max=1, bar_style="info"),
                    "log": w.Textarea(value="", layout=w.Layout(width="100%", height="8em"), disabled=True),
                }
                display(w.VBox(list(self._widgets.values())))

    def __call__(self, line: str) -> None:
        """Take one log line (the ``on_line`` callback)."""
        self.lines.append(line)
        p = parse_line(line)
        if p.kind == "step" and p.label not in self.steps_seen:
            self.steps_seen.append(p.label)
            self.current = p.label
            self._show(p.index, p.total)
        elif p.kind == "cached":
            self.cached += 1
        if self._widgets:
            self._widgets["log"].value = "\n".join(self.lines)

    def _show(self, n: int, total: int) -> None:
        if self._widgets:
            self._widgets["label"].value = f"<b>{self.title}</b>: step {self.current}"
            self._widgets["bar"].max = total
            self._widgets["bar"].value = n
        else:
            print(f"{self.title}: {self.current}", flush=True)

    def done(self, result: Any = None, error: BaseException | None = None) -> None:
        """Mark the build finished (pass the BuildResult, or the error)."""
        if error is not None:
            text = f"<b>{self.title}</b>: failed at {getattr(error, 'step', '') or self.current}"
            style = "danger"
        else:
            secs = f" in {result.seconds:.1f} s" if result is not None else ""
            hits = f", {result.cache_hits} of {len(result.steps)} steps from cache" if result is not None else ""
            text, style = f"<b>{self.title}</b>: done{secs}{hits}", "success"
        if self._widgets:
            self._widgets["label"].value = text
            self._widgets["bar"].bar_style = style
            if style == "success":
                self._widgets["bar"].value = self._widgets["bar"].max
        else:
            print(re.sub(r"</?b>", "", text), flush=True)
