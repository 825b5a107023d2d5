"""Generate ``notebooks/00-index.ipynb`` from the notebooks and assignments on disk.

The index is never edited by hand: ``make index`` (``python -m helpers index``) rewrites it,
and a test fails when it is out of date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from helpers.paths import course_root

__all__ = ["Entry", "collect_entries", "build_index", "write_index", "index_is_current"]

INDEX_NAME = "00-index.ipynb"


@dataclass
class Entry:
    """A notebook listed in the index."""

    path: str  # relative to notebooks/
    title: str
    minutes: str
    kind: str  # "lesson" or "lab"


def _describe(nb_path: Path) -> tuple[str, str]:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    title, minutes = nb_path.stem, ""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        if m := re.search(r"^#\s+(.+)$", cell.source, re.M):
            title = title if title != nb_path.stem else m.group(1).strip()
        if m := re.search(r"(?i)estimated time[^0-9]*(\d+(?:\s*[-–]\s*\d+)?)\s*min", cell.source):
            minutes = m.group(1).replace(" ", "")
        if title != nb_path.stem and minutes:
            break
    return title, minutes


def collect_entries(root: Path | None = None) -> list[Entry]:
    """Lessons from ``notebooks/NN-*.ipynb`` and labs from ``release/<assignment>/*.ipynb``."""
    root = root or course_root()
    entries = []
    for nb in sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        if nb.name == INDEX_NAME:
            continue
        entries.append(Entry(nb.name, *_describe(nb), kind="lesson"))
    for nb in sorted((root / "release").glob("*/*.ipynb")):
        entries.append(Entry(f"../release/{nb.parent.name}/{nb.name}", *_describe(nb), kind="lab"))
    return entries


def _table(entries: list[Entry]) -> str:
    if not entries:
        return "_None yet._"
    lines = ["| notebook | time |", "|---|---|"]
    lines += [f"| [{e.title}]({e.path}) | {e.minutes + ' min' if e.minutes else ''} |" for e in entries]
    return "\n".join(lines)


def build_index(root: Path | None = None):
    """Return the index notebook (an ``nbformat`` NotebookNode)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    entries = collect_entries(root)
    lessons = [e for e in entries if e.kind == "lesson"]
    labs = [e for e in entries if e.kind == "lab"]
    cells = [
        new_markdown_cell(
            "# Docker for CI/CD Practitioners\n\n"
            "Welcome. This course drives a real Docker Engine from Jupyter notebooks: you build, run, scan and "
            "publish images for a Python service, and the labs check your work as you go.\n\n"
            "**Objectives of the module**\n"
            "- Explain container fundamentals and why Docker matters in CI/CD.\n"
            "- Build, tag, scan, and publish container images for Python services.\n"
            "- Optimize Dockerfiles for reproducibility, security, and performance.\n"
            "- Integrate container workflows into existing pipelines.\n\n"
            "**Start here:** run the two cells below. The table tells you whether your Docker lab environment is "
            "ready. If the engine line says MISSING, run `make lab` in a terminal (or ask your instructor); "
            "without an engine every notebook still runs the parts that need none."
        ),
        new_code_cell("%matplotlib inline\nfrom helpers.engine.env import status_frame"),
        new_code_cell(
            "# Parameters (papermill can override them)\nshow_optional_tools = True", metadata={"tags": ["parameters"]}
        ),
        new_code_cell(
            'table = status_frame()\nif not show_optional_tools:\n    table = table[table["state"] != "absent"]\ntable'
        ),
        new_markdown_cell("## Lessons and activities\n\n" + _table(lessons)),
        new_markdown_cell(
            "## Graded labs\n\n" + _table(labs) + "\n\n"
            "On a JupyterHub, fetch the labs from the **Assignments** tab instead, so that you can submit them."
        ),
        new_markdown_cell(
            "## Good habits in the lab\n"
            "- Everything the course creates carries the label `org.dockercourse.kit`. "
            "`python -m helpers env status` shows the environment; the cleanup in the Disk hygiene lesson removes "
            "only what the course created.\n"
            "- `docker system df` shows how much disk images, containers and the build cache use."
        ),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"index-{i}"  # stable ids: the file only changes when its content does
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def _text(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def write_index(root: Path | None = None) -> Path:
    """Write ``notebooks/00-index.ipynb`` and return its path."""
    root = root or course_root()
    path = root / "notebooks" / INDEX_NAME
    path.write_text(_text(build_index(root)))
    return path


def index_is_current(root: Path | None = None) -> bool:
    """True when the index on disk equals a fresh generation."""
    root = root or course_root()
    path = root / "notebooks" / INDEX_NAME
    return path.exists() and path.read_text() == _text(build_index(root))
