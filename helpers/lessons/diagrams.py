"""Diagrams for the lessons, drawn by code (matplotlib), readable in dark and light themes.

Every figure has a transparent background and uses only theme-neutral colours: mid-tone
fills with white text inside boxes, and a mid grey for text, lines and arrows outside them.
Each function takes ``ax=None`` (a new figure when omitted) and returns the Axes.
Diagrams that show numbers take them as arguments: the notebook passes what it just measured.
Charts of measurements (bars, timelines) live in :mod:`helpers.lessons.plots`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from helpers.figures import axes

__all__ = [
    "PALETTE",
    "NEUTRAL",
    "client_daemon_registry",
    "layer_stack",
    "container_vs_vm",
    "pipeline_map",
    "runtime_map",
    "neutralize",
]

#: Mid-tone fills; white text on each has a contrast ratio of at least 3:1.
PALETTE = {
    "blue": "#2f6db5",
    "green": "#2e7d4f",
    "orange": "#b8581a",
    "purple": "#6a4c9c",
    "red": "#b03a3a",
    "grey": "#5f6b7a",
    "teal": "#1f7a80",
}
#: Text, lines and arrows outside boxes: readable on white and on near-black.
NEUTRAL = "#8a8a8a"
_INSIDE = "white"


def neutralize(ax: Any) -> Any:
    """Make an Axes theme-neutral: transparent background, grey text, ticks and spines."""
    ax.set_facecolor("none")
    ax.figure.patch.set_alpha(0.0)
    for spine in ax.spines.values():
        spine.set_color(NEUTRAL)
    ax.tick_params(colors=NEUTRAL, labelcolor=NEUTRAL)
    for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
        text.set_color(NEUTRAL)
    return ax


def _blank(ax: Any, xlim: tuple[float, float], ylim: tuple[float, float]) -> Any:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_axis_off()
    neutralize(ax)
    return ax


def _box(ax: Any, x: float, y: float, w: float, h: float, text: str, color: str, fontsize: float = 10) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(
        FancyBboxPatch(
            (x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", facecolor=color, edgecolor=color, linewidth=1
        )
    )
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", color=_INSIDE, fontsize=fontsize, wrap=True)


def _arrow(
    ax: Any,
    start: tuple[float, float],
    end: tuple[float, float],
    label: str = "",
    offset: float = 0.15,
    both: bool = False,
) -> None:
    ax.annotate(
        "", xy=end, xytext=start, arrowprops={"arrowstyle": "<->" if both else "->", "color": NEUTRAL, "lw": 1.6}
    )
    if label:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + offset
        ax.text(mx, my, label, ha="center", va="bottom", color=NEUTRAL, fontsize=8.5)


def client_daemon_registry(ax: Any = None, calls: Sequence[str] | None = None) -> Any:
    """Docker client <-> daemon <-> registry.

    Args:
        ax: Axes to draw on.
        calls: Optional API calls to list under the client->daemon arrow (e.g. the ones
            the notebook just traced, such as ``"POST /containers/create"``).

    Returns:
        The Axes.
    """
    ax = axes(ax, (10, 4.2))
    _blank(ax, (0, 10), (0, 4.2))
    _box(ax, 0.2, 1.6, 2.2, 1.2, "client\n`docker` CLI\nor docker-py", PALETTE["blue"])
    _box(ax, 3.9, 1.6, 2.2, 1.2, "daemon\n(dockerd)", PALETTE["green"])
    _box(ax, 7.6, 1.6, 2.2, 1.2, "registry\n(Hub, GHCR, ECR,\nlocal :5000)", PALETTE["purple"])
    _box(ax, 3.9, 0.1, 2.2, 0.9, "images · containers\nvolumes · networks", PALETTE["grey"], fontsize=8.5)
    _arrow(ax, (2.45, 2.2), (3.85, 2.2), "REST API over\nunix socket / TCP", both=True)
    _arrow(ax, (6.15, 2.2), (7.55, 2.2), "push / pull\n(HTTPS, v2 API)", both=True)
    _arrow(ax, (5.0, 1.55), (5.0, 1.05), both=True)
    ax.text(
        5.0,
        3.55,
        "the client only sends requests; the daemon builds, runs and talks to registries",
        ha="center",
        color=NEUTRAL,
        fontsize=9,
    )
    if calls:
        shown = list(calls)[:6] + (["..."] if len(calls) > 6 else [])
        ax.text(0.2, 1.45, "\n".join(shown), ha="left", va="top", color=NEUTRAL, fontsize=7.5, family="monospace")
    return ax


def layer_stack(layers: Sequence[tuple[str, int]] | None = None, ax: Any = None, title: str = "") -> Any:
    """An image as a stack of read-only layers with a thin writable container layer on top.

    Args:
        layers: (instruction, size in bytes) from the bottom (base) up, e.g. from
            ``image.history()`` reversed. ``None`` draws a generic, number-free stack.
        ax: Axes to draw on.
        title: Optional title.

    Returns:
        The Axes.
    """
    generic = layers is None
    rows: list[tuple[str, int | None]] = (
        [
            ("FROM python:3.12-slim (base layers)", None),
            ("COPY requirements.txt .", None),
            ("RUN pip install -r requirements.txt", None),
            ("COPY . .", None),
        ]
        if generic
        else [(i, s) for i, s in layers]  # type: ignore[union-attr]
    )
    n = len(rows)
    ax = axes(ax, (9, 0.55 * (n + 2) + 0.8))
    _blank(ax, (0, 10), (0, n + 1.6))
    colors = [PALETTE["grey"], PALETTE["blue"], PALETTE["teal"], PALETTE["green"], PALETTE["purple"], PALETTE["orange"]]
    for k, (instr, size) in enumerate(rows):
        label = instr if len(instr) <= 60 else instr[:57] + "..."
        _box(
            ax,
            1.0,
            k + 0.08,
            6.4,
            0.84,
            label,
            colors[min(k, len(colors) - 1)] if k == 0 else colors[1 + (k - 1) % 5],
            fontsize=8.5,
        )
        if size is not None:
            ax.text(7.6, k + 0.5, _human(size), va="center", color=NEUTRAL, fontsize=9)
    _box(
        ax,
        1.0,
        n + 0.12,
        6.4,
        0.6,
        "container layer (writable, thin, deleted with the container)",
        PALETTE["red"],
        fontsize=8.5,
    )
    ax.text(0.5, n / 2, "read-only image layers", rotation=90, ha="center", va="center", color=NEUTRAL, fontsize=9)
    if title:
        ax.set_title(title, color=NEUTRAL)
    return ax


def container_vs_vm(ax: Any = None, kernel: str = "") -> Any:
    """Two stacks side by side: containers share the host kernel, VMs each boot their own.

    Args:
        ax: Axes to draw on.
        kernel: The host kernel release the notebook measured (shown in the shared box).

    Returns:
        The Axes.
    """
    ax = axes(ax, (11, 4.6))
    _blank(ax, (0, 11), (0, 5.2))
    # containers
    ax.text(2.6, 4.9, "containers", ha="center", color=NEUTRAL, fontsize=11, weight="bold")
    for k in range(3):
        _box(ax, 0.2 + 1.7 * k, 2.45, 1.55, 1.9, f"app {k + 1}\n+ libs\n(image)", PALETTE["blue"], fontsize=9)
    _box(ax, 0.2, 1.55, 4.95, 0.7, "container engine (dockerd, runc)", PALETTE["green"], fontsize=9)
    _box(
        ax,
        0.2,
        0.65,
        4.95,
        0.7,
        "ONE shared host kernel" + (f" {kernel}" if kernel else ""),
        PALETTE["orange"],
        fontsize=9,
    )
    _box(ax, 0.2, 0.0, 4.95, 0.5, "hardware", PALETTE["grey"], fontsize=8.5)
    # VMs
    ax.text(8.3, 4.9, "virtual machines", ha="center", color=NEUTRAL, fontsize=11, weight="bold")
    for k in range(3):
        x = 5.9 + 1.7 * k
        _box(ax, x, 3.35, 1.55, 1.0, f"app {k + 1}\n+ libs", PALETTE["blue"], fontsize=9)
        _box(ax, x, 2.45, 1.55, 0.8, "guest OS\n+ kernel", PALETTE["orange"], fontsize=8.5)
    _box(ax, 5.9, 1.55, 4.95, 0.7, "hypervisor (KVM, QEMU, ...)", PALETTE["purple"], fontsize=9)
    _box(ax, 5.9, 0.65, 4.95, 0.7, "host kernel", PALETTE["orange"], fontsize=9)
    _box(ax, 5.9, 0.0, 4.95, 0.5, "hardware", PALETTE["grey"], fontsize=8.5)
    return ax


def runtime_map(ax: Any = None) -> Any:
    """What is decided when a container starts: environment, mounts, health check, limits."""
    ax = axes(ax, (10, 4.4))
    _blank(ax, (0, 10), (0, 4.6))
    _box(ax, 3.6, 1.5, 2.8, 1.6, "container\n(image layers + a\nwritable layer)", PALETTE["blue"])
    _box(ax, 0.1, 3.3, 2.6, 0.9, "-e APP_GREETING=...\nenvironment", PALETTE["teal"], fontsize=9)
    _box(ax, 0.1, 1.85, 2.6, 0.9, "host folder\nbind mount (-v ./src:/app)", PALETTE["grey"], fontsize=9)
    _box(ax, 0.1, 0.4, 2.6, 0.9, "named volume\n(-v data:/var/lib/app)", PALETTE["purple"], fontsize=9)
    _box(ax, 7.3, 3.3, 2.6, 0.9, "HEALTHCHECK\nprobe every interval", PALETTE["green"], fontsize=9)
    _box(ax, 7.3, 1.85, 2.6, 0.9, "cgroup limits\n--memory --cpus --pids-limit", PALETTE["orange"], fontsize=9)
    _arrow(ax, (2.75, 3.75), (3.55, 2.9))
    _arrow(ax, (2.75, 2.3), (3.55, 2.3), both=True)
    _arrow(ax, (2.75, 0.85), (3.55, 1.7), both=True)
    _arrow(ax, (7.25, 3.75), (6.45, 2.9), both=True)
    _arrow(ax, (7.25, 2.3), (6.45, 2.3))
    ax.text(
        5.0,
        4.35,
        "the same image everywhere; what differs is supplied at `docker run`",
        ha="center",
        color=NEUTRAL,
        fontsize=9,
    )
    ax.text(
        8.6,
        0.85,
        "removing the container deletes\nits writable layer; bind-mounted\nfiles and volumes stay",
        ha="center",
        va="center",
        color=NEUTRAL,
        fontsize=8.5,
    )
    return ax


def pipeline_map(ax: Any = None, highlight: Sequence[str] = ("build", "scan", "push")) -> Any:
    """The CD pipeline stages of Module 3, with the stages this module adds Docker to highlighted."""
    stages = ["commit", "build", "test", "scan", "push", "deploy"]
    ax = axes(ax, (10, 2.2))
    _blank(ax, (0, 10), (0, 2.2))
    w = 1.4
    for k, name in enumerate(stages):
        x = 0.2 + k * 1.65
        _box(ax, x, 0.7, w, 0.8, name, PALETTE["green"] if name in highlight else PALETTE["grey"])
        if k:
            _arrow(ax, (x - 0.23, 1.1), (x - 0.02, 1.1))
    ax.text(
        5,
        1.85,
        "green: stages where this module's image is built, checked or published",
        ha="center",
        color=NEUTRAL,
        fontsize=9,
    )
    return ax


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
