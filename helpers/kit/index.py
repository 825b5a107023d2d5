"""Generate ``notebooks/00-index.ipynb`` from the notebooks and assignments on disk.

The index is never edited by hand: ``make index`` (``python -m helpers index``) rewrites it,
and a test fails when it is out of date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from helpers.paths import course_root

__all__ = [
    "Entry",
    "lab_work",
    "SUGGESTED_PATH",
    "collect_entries",
    "suggested_path",
    "build_index",
    "write_index",
    "index_is_current",
]

INDEX_NAME = "00-index.ipynb"

#: The order to take the course in, lessons and labs interleaved: (notebook stem or assignment folder,
#: what it builds on). Every notebook of the course belongs here; a test fails when one is missing.
SUGGESTED_PATH: list[tuple[str, tuple[str, ...]]] = [
    ("01-containers-vs-vms", ()),
    ("02-image-layers-and-caching", ("01",)),
    ("lab1-build-basics", ("01", "02")),
    ("03-client-daemon-registry", ("01",)),
    ("04-runtime-configuration", ("01", "lab 1")),
    ("05-python-patterns", ("02", "04")),
    ("21-secret-mounts", ("02", "05")),
    ("lab2-improve-dockerfile", ("lab 1", "05")),
    ("10-layer-analysis", ("02",)),
    ("activity-shrink-image", ("10",)),
    ("11-dockerfile-review", ("05", "10")),
    ("lab3-security-scan", ("lab 2", "11")),
    ("20-signing-and-digests", ("03",)),
    ("lab4-publish", ("03", "20")),
    ("06-disk-hygiene", ("lab 1",)),
    ("31-buildkit-caching", ("02", "20")),
    ("30-compose-and-kubernetes", ("04",)),
    ("lab5-automate-builds", ("lab 4", "30", "31")),
    ("40-containers-vs-vms", ("01",)),
    ("activity-infra-cost", ("40",)),
    ("07-where-this-fits", ("lab 5",)),
]

#: How a notebook states its time: "**Estimated time:** 25 min", "**Time:** about 30 minutes".
_TIME = (
    re.compile(r"(?i)estimated time[^0-9]*(\d+(?:\s*[-–]\s*\d+)?)\s*min"),
    re.compile(r"(?i)\btime:\**\s*(?:about\s+)?(\d+(?:\s*[-–]\s*\d+)?)\s*min"),
)


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
        for pattern in _TIME if not minutes else ():
            if m := pattern.search(cell.source):
                minutes = m.group(1).replace(" ", "")
                break
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


#: What a student types, as the index counts it: docker subcommands and the other tools of the labs.
_COMMAND = re.compile(
    r"(?<![\w./-])(docker (?:compose |buildx |image |manifest )?[a-z][a-z-]+|bash publish\.sh|actionlint|"
    r"dive|trivy|grype|hadolint|cosign|curl)\b"
)


_DOCKER_SUBCOMMANDS = set(
    "attach build builder buildx commit compose container context cp create diff events exec history image images "
    "info init inspect kill load login logout logs manifest network pause port ps pull push restart rm rmi run save "
    "sbom scout search start stats stop system tag top trust unpause version volume wait".split()
)


def lab_work(lab_dir: Path, root: Path | None = None) -> tuple[list[str], list[str], list[str]]:
    """What a lab's student writes and types, read from the lab's files: (files, typed, shown).

    - files: the lab's ``answers:`` (``source/<lab>/grading.yml``), else every file beside the notebook.
    - typed: each distinct ``docker <subcommand>`` (and the lab's other tools) the student writes: in the source
      notebook's solution regions (the cells the release leaves blank) and in the reference versions of the
      answer files (``tests/data/labs/<lab>/reference``: a script's or a workflow's commands).
    - shown: the commands the notebook's own cells run (``!`` lines, ``%%bash`` cells), written out in full.
    Markdown mentions count in neither: a command named in a sentence is not one the student types.
    """
    import nbformat
    import yaml

    base = root or course_root()
    spec = base / "source" / lab_dir.name / "grading.yml"
    files = (yaml.safe_load(spec.read_text()) or {}).get("answers") if spec.is_file() else None
    if not files:
        files = sorted(str(f.relative_to(lab_dir)) for f in lab_dir.rglob("*") if f.is_file() and f.suffix != ".ipynb")
    typed: list[str] = []
    shown: list[str] = []
    source_dir = base / "source" / lab_dir.name
    for nb in sorted((source_dir if source_dir.is_dir() else lab_dir).glob("*.ipynb")):
        for cell in nbformat.read(nb, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            solution = "\n".join(_SOLUTION.findall(cell.source))
            if cell.metadata.get("nbgrader", {}).get("solution") and not solution:
                solution = cell.source
            _add_commands(typed, solution)
            rest = _SOLUTION.sub("", cell.source) if solution != cell.source else ""
            lines = rest.splitlines()
            bash = lines[1:] if lines and lines[0].startswith("%%bash") else []
            _add_commands(shown, "\n".join([ln.split("!", 1)[1] for ln in lines if ln.lstrip().startswith("!")] + bash))
    reference = base / "tests" / "data" / "labs" / lab_dir.name / "reference"
    for name in files:
        if (reference / name).is_file():
            _add_commands(typed, (reference / name).read_text(errors="replace"))
    return [str(f) for f in files], typed, [c for c in shown if c not in typed]


#: nbgrader's solution region (its markers are nbgrader's ``begin_solution_delimeter``; written without the "###"
#: so that no file of the students' copy carries the marker itself).
_SOLUTION = re.compile(r"#{3} BEGIN SOLUTION\n(.*?)#{3} END SOLUTION", re.S)


def _add_commands(found: list[str], text: str) -> None:
    """Append each command of :data:`_COMMAND` in ``text`` not in ``found`` yet (docker subcommands checked)."""
    for cmd in _COMMAND.findall(text):
        sub = cmd.split()[1] if cmd.startswith("docker ") else ""
        if cmd not in found and (not sub or sub in _DOCKER_SUBCOMMANDS):
            found.append(cmd)


def _lab_table(labs: list[Entry], root: Path | None) -> str:
    if not labs:
        return "_None yet._"
    lines = [
        "| lab | time | files you write | commands you type | commands its cells run for you to read |",
        "|---|---|---|---|---|",
    ]
    for e in labs:
        files, typed, shown = lab_work((root or course_root()) / "notebooks" / Path(e.path).parent, root)
        cells = [", ".join(f"`{x}`" for x in group) or "-" for group in (files, typed, shown)]
        lines.append(f"| [{e.title}]({e.path}) | {e.minutes} min | {' | '.join(cells)} |")
    return "\n".join(lines)


def _key(entry: Entry) -> str:
    """The name SUGGESTED_PATH uses: the notebook's stem for a lesson, the assignment folder for a lab."""
    return Path(entry.path).stem if entry.kind == "lesson" else Path(entry.path).parent.name


def suggested_path(entries: list[Entry]) -> tuple[list[tuple[Entry, tuple[str, ...]]], list[Entry]]:
    """The entries in the suggested order with what each builds on, and the entries the path does not place."""
    by_key = {_key(e): e for e in entries}
    placed = [(by_key[key], after) for key, after in SUGGESTED_PATH if key in by_key]
    keys = {key for key, _after in SUGGESTED_PATH}
    return placed, [e for e in entries if _key(e) not in keys]


def _path_table(entries: list[Entry]) -> str:
    placed, unplaced = suggested_path(entries)
    lines = ["| step | notebook | kind | time | builds on |", "|---|---|---|---|---|"]
    for step, (e, after) in enumerate(placed, 1):
        kind = "activity" if _key(e).startswith("activity") else e.kind
        time = f"{e.minutes} min" if e.minutes else ""
        lines.append(f"| {step} | [{e.title}]({e.path}) | {kind} | {time} | {', '.join(after) or '-'} |")
    lines += [f"| - | [{e.title}]({e.path}) | {e.kind} | {e.minutes} | not placed yet |" for e in unplaced]
    total = sum(int(e.minutes.split("-")[-1].split("–")[-1]) for e, _a in placed if e.minutes)
    return "\n".join(lines) + f"\n\nAbout {total / 60:.0f} hours in all, at the upper estimates."


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
        new_markdown_cell("The same question from a terminal: which client, which engine?"),
        # %%bash, not `!`: IPython would read {{ }} in a `!` line as its own braces and print {.Client.Version}
        new_code_cell(
            "%%bash\ndocker version --format 'client {{.Client.Version}}, engine {{.Server.Version}}' "
            '|| echo "(no engine here: run make lab)"'
        ),
        new_markdown_cell(
            "## Suggested path\n\nLessons and labs interleaved: each lab comes after the lessons it uses. "
            "*Builds on* names the lessons (by number) and labs to take first.\n\n" + _path_table(entries)
        ),
        new_markdown_cell("## Lessons and activities\n\n" + _table(lessons)),
        new_markdown_cell(
            "## Graded labs\n\nEach lab is done with real files and real commands: you write the files in the lab's "
            "folder (JupyterLab's editor) and type the commands in the notebook or a terminal.\n\n"
            + _lab_table(labs, root)
            + "\n\n"
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
