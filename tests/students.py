"""Simulated students for the instructor-workflow tests: fetch, answer, submit through a shared exchange.

Each student has a home of their own and an ``Exchange.cache`` of their own (several students
under one OS account otherwise share ``$JUPYTER_DATA_DIR/nbgrader_cache``). With ``uid`` set
(tests running as root) the student's commands run as that OS user, as on a JupyterHub.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import nbformat


class Student:
    def __init__(self, sid: str, base: Path, exchange: Path, course_id: str = "docker-cicd", uid: int | None = None):
        self.sid, self.exchange, self.course_id, self.uid = sid, exchange, course_id, uid
        self.home = base / ("home-" + hashlib.sha1(sid.encode()).hexdigest()[:10])  # any id, even odd ones
        self.home.mkdir(parents=True, exist_ok=True)
        if uid is not None:
            os.chown(self.home, uid, uid)

    def nbgrader(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "nbgrader", *args, f"--course={self.course_id}",
               f"--Exchange.root={self.exchange}", f"--Exchange.cache={self.home / '.nbgrader_cache'}",
               "--Exchange.path_includes_course=True"]
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(self.home),
               "JUPYTER_DATA_DIR": str(self.home / ".jupyter-data"), "LANG": "C.UTF-8"}
        kw = {"user": self.uid, "group": self.uid, "extra_groups": []} if self.uid is not None else {}
        return subprocess.run(cmd, cwd=self.home, capture_output=True, text=True, env=env, timeout=120, **kw)

    def fetch(self, assignment: str) -> Path:
        proc = self.nbgrader("fetch_assignment", assignment)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return self.home / self.course_id / assignment

    def answer(self, assignment: str, replacements: dict[str, str]) -> None:
        """Replace the stub of each solution cell (by grade_id) with the given code."""
        path = self.home / self.course_id / assignment / f"{assignment}.ipynb"
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in replacements:
                cell.source = replacements[gid]
        nbformat.write(nb, path)
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)

    def submit(self, assignment: str, student_id: str | None = None) -> subprocess.CompletedProcess[str]:
        args = ["submit", assignment] + ([f"--student={student_id or self.sid}"] if self.uid is None else [])
        return self.nbgrader(*args)
