"""Unit tests for helpers.kit.index: the index lists every notebook with its time and a suggested path (no engine)."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from helpers.kit.index import INDEX_NAME, SUGGESTED_PATH, build_index, collect_entries, suggested_path
from helpers.paths import course_root

ROOT = course_root()
LESSONS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb") if p.name != INDEX_NAME)


@pytest.mark.parametrize("nb", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_states_objectives_and_a_time(nb):
    """Does every lesson state its objectives and an estimated time the index can read?"""
    text = "\n".join(c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "markdown")
    assert "Objectives" in text, f"{nb.name}: no objectives"
    entry = next(e for e in collect_entries(ROOT) if e.path == nb.name)
    assert re.fullmatch(r"\d+(-\d+)?", entry.minutes), f"{nb.name}: no time the index can read"


def test_every_notebook_has_a_time_and_a_place_on_the_path():
    """Does every lesson and lab have a time, and does the suggested path place each exactly once?"""
    entries = collect_entries(ROOT)
    assert [e.path for e in entries if not e.minutes] == []
    placed, unplaced = suggested_path(entries)
    assert unplaced == [], f"add these to SUGGESTED_PATH: {[e.path for e in unplaced]}"
    keys = [key for key, _after in SUGGESTED_PATH]
    assert len(keys) == len(set(keys))
    assert len(placed) == len(entries)


def test_index_lists_every_notebook_with_its_time():
    """Does the generated index link every notebook, with its time, in the suggested path?"""
    cells = build_index(ROOT).cells
    path_cell = next(c.source for c in cells if c.source.startswith("## Suggested path"))
    for e in collect_entries(ROOT):
        row = next((line for line in path_cell.splitlines() if f"]({e.path})" in line), "")
        assert f"| {e.minutes} min |" in row, f"{e.path} has no row with its time in the suggested path"


def test_builds_on_names_only_earlier_steps():
    """Does each step build only on notebooks that come before it on the path?"""
    seen: set[str] = set()
    for key, after in SUGGESTED_PATH:
        for need in after:
            short = need.replace("lab ", "lab") if need.startswith("lab ") else need
            assert any(s.startswith(short) for s in seen), f"{key} builds on {need}, which comes later or not at all"
        seen.add(key)


def test_time_is_read_in_both_styles(tmp_path):
    """Are "**Estimated time:** 25 min" and "**Time:** about 40 minutes" both read, and a time base ignored?"""
    from helpers.kit.index import _describe

    for text, minutes in [
        ("# T\n**Estimated time:** 25 min", "25"),
        ("# T\n**Time:** about 40 minutes.", "40"),
        ("# T\nA real time base. 30 min of fun", ""),
    ]:
        path = tmp_path / "nb.ipynb"
        nbformat.write(new_notebook(cells=[new_markdown_cell(text)]), path)
        assert _describe(path) == ("T", minutes)


@pytest.mark.parametrize("nb", LESSONS, ids=[p.stem for p in LESSONS])
def test_no_link_placeholder_in_lessons(nb):
    """Is every link in a lesson real: no "(edit this link)" and no placeholder module folder?"""
    for cell in nbformat.read(nb, as_version=4).cells:
        assert "edit this link" not in cell.source
        assert not re.search(r"\]\(\.\./module-\d", cell.source), cell.source[:200]


def test_labs_table_counts_the_files_written_and_the_commands_typed():
    """Does the index's table show, per lab, the files its student writes and the commands its notebook has them
    type (read from the notebooks, so a lab that stopped asking for a command drops out of the table)?"""
    from helpers.kit.index import lab_work

    files, typed, shown = lab_work(ROOT / "release" / "lab1-build-basics", ROOT)
    assert files == ["Dockerfile"]
    assert "docker exec" in typed and {"docker build", "docker run", "docker history"} <= set(shown)
    assert not set(typed) & set(shown) and len(shown) == len(set(shown))
    for lab in ("lab2-improve-dockerfile", "lab3-security-scan", "lab4-publish", "lab5-automate-builds"):
        files, typed, _ = lab_work(ROOT / "release" / lab, ROOT)
        assert files and any(c.startswith("docker ") for c in typed), lab
    _, typed, shown = lab_work(ROOT / "release" / "lab4-publish", ROOT)
    assert {"docker login", "docker tag", "docker push", "docker pull"} <= set(typed) and "bash publish.sh" in shown
    assert "trivy" not in lab_work(ROOT / "release" / "lab3-security-scan", ROOT)[1]  # named in a sentence only
    text = "\n".join(c.source for c in build_index(ROOT).cells if c.cell_type == "markdown")
    assert "| files you write | commands you type | commands its cells run for you to read |" in text
    assert "`publish.sh`" in text
