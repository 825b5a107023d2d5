"""Engine, prebuilt archives, or neither: what a notebook can do here, and what it skipped.

Every notebook starts with ``MODE = course_mode()``: one line says whether a Docker Engine
answers and, if not, whether the instructor's prebuilt archives (``make prebuilt``) are here.
Without an engine, cells that read images use ``MODE.archive(name, what)`` (layer analysis,
review, bill of materials, scanning from ``docker save`` archives); cells that must build or
run ask ``MODE.needs_engine(what)`` first. The last cell calls ``MODE.report()``: what came
from archives, what was skipped, and how to get it. Nothing raises, so "Run All" always
reaches the end.

Tests set ``COURSE_MODE_LOG`` to a file: each use and each skip is appended as a JSON line.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.client import engine_available
from helpers.errors import CourseError
from helpers.kit.prebuilt import catalog_image, find_archive, prebuilt_dir, read_manifest
from helpers.kit.sampleapp import SampleImageMissing

__all__ = ["CourseMode", "course_mode", "MODE_LOG_ENV"]

MODE_LOG_ENV = "COURSE_MODE_LOG"


@dataclass
class CourseMode:
    """What this notebook can use: ``engine`` (bool) and the prebuilt archives folder (or None)."""

    engine: bool
    prebuilt: Path | None = None
    archives: tuple[str, ...] = ()
    used: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """ "engine", "prebuilt" or "none"."""
        return "engine" if self.engine else "prebuilt" if self.prebuilt else "none"

    def _log(self, event: str, **data: Any) -> None:
        path = os.environ.get(MODE_LOG_ENV)
        if path:
            with open(path, "a") as f:
                f.write(json.dumps({"event": event, "mode": self.name, **data}) + "\n")

    def needs_engine(self, what: str) -> bool:
        """True when the engine answers; else records and prints that ``what`` was skipped."""
        if self.engine:
            return True
        if what not in self.skipped:
            self.skipped.append(what)
        print(f"Skipped (needs the Docker Engine): {what}.")
        self._log("skip", what=what)
        return False

    def archive(self, name: str, what: str = "") -> Path | None:
        """The prebuilt archive ``name`` (a :data:`helpers.kit.prebuilt.CATALOG` name), or None with a note.

        Args:
            name: Archive name, e.g. ``"sample-naive"``.
            what: What the notebook reads it for (shown when the archive is missing).
        """

        label = f"{what} (archive {name})" if what else f"archive {name}"
        if self.prebuilt is None:
            why = "no engine and no prebuilt archives; ask your instructor for the prebuilt/ folder (`make prebuilt`)"
        else:
            try:
                path = find_archive(name, self.prebuilt)
            except CourseError as e:
                why = f"{e.hint or e.message} Ask your instructor for a newer prebuilt/ folder."
            else:
                if name not in self.used:
                    self.used.append(name)
                self._log("archive", name=name, what=what)
                return path
        if label not in self.missing:
            self.missing.append(label)
        print(f"Skipped: {label}: {why}")
        self._log("missing", name=name, what=what)
        return None

    def image(self, name: str, what: str = "") -> str | None:
        """Where to read the catalog image ``name`` from, in any mode.

        With an engine: its reference (built first when missing, :func:`helpers.kit.prebuilt.catalog_image`; in the
        students' copy the sample app's images are the student's own, None with a note until they are built);
        without: its prebuilt archive path as :meth:`archive` finds it; else None (with a note).
        """
        if self.engine:
            try:
                return catalog_image(name)
            except SampleImageMissing as e:  # the students' copy: their own Lab 1/2 image is not built yet
                label = f"{what} (image {name})" if what else f"image {name}"
                if label not in self.missing:
                    self.missing.append(label)
                print(f"Skipped: {label}: {e.message} {e.hint}")
                self._log("missing", name=name, what=what)
                return None
        path = self.archive(name, what)
        return str(path) if path else None

    def report(self) -> None:
        """Print what came from archives and what was skipped (the notebook's last cell)."""
        if self.engine:
            if self.missing:  # the students' copy: images the student builds from their own lab files
                print("Skipped (build the image first, then run the notebook again):", *self.missing, sep="\n  - ")
            else:
                print("Everything in this notebook ran against the Docker Engine.")
            self._log("report", used=self.used, skipped=self.skipped, missing=self.missing)
            return
        if self.used:
            print(f"Read from prebuilt archives ({self.prebuilt}): {', '.join(self.used)}.")
        for title, items in (
            ("Skipped (needs the Docker Engine)", self.skipped),
            ("Skipped (no prebuilt archive)", self.missing),
        ):
            if items:
                print(f"{title}:", *[f"  - {i}" for i in items], sep="\n")
        if not (self.skipped or self.missing):
            print("Nothing was skipped.")
        else:
            print("To run the skipped parts: open the course in a Codespace, or install Docker and run `make lab`.")
        self._log("report", used=self.used, skipped=self.skipped, missing=self.missing)

    def _repr_markdown_(self) -> str:
        return f"**Course mode:** {self.name}"


def course_mode(announce: bool = True, client: Any = None) -> CourseMode:
    """Look for an engine, then for prebuilt archives; print one line about it (``announce``)."""

    engine = engine_available(client)
    folder, names = None, ()
    if not engine:
        try:
            manifest = read_manifest()
            folder, names = prebuilt_dir(), tuple(i.name for i in manifest.images)
        except CourseError:
            pass
    mode = CourseMode(engine, folder, names)
    if announce:
        if engine:
            print("Docker Engine: ready.")
        elif folder:
            print(
                f"Docker Engine: not available. Using the prebuilt archives in {folder} ({len(names)} images) "
                "for what works from an image archive; cells that build or run containers are skipped "
                "and listed at the end."
            )
        else:
            print(
                "Docker Engine: not available, and no prebuilt archives (prebuilt/manifest.json). Cells that "
                "need images are skipped and listed at the end. Ask your instructor for the prebuilt/ folder."
            )
    mode._log("start", archives=list(names))
    return mode
