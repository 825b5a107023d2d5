"""A lab folder as a student hands it in, for the verdict tests: the files written, the missing ones left out."""

from __future__ import annotations

from pathlib import Path


def handed_in(tmp_path: Path, lab: str, files: dict[str, str | None]) -> Path:
    """``tmp_path/lab`` holding each file of ``files`` whose text is not None (None: the student wrote none)."""
    folder = tmp_path / lab
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if text is not None:
            (folder / name).write_text(text)
    return folder
