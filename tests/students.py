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
    def __init__(
        self,
        sid: str,
        base: Path,
        exchange: Path,
        course_id: str = "docker-cicd",
        uid: int | None = None,
        env: dict[str, str] | None = None,
    ):
        self.sid, self.exchange, self.course_id, self.uid = sid, exchange, course_id, uid
        self.env = dict(env or {})  # e.g. a hub's settings: COURSE_EXCHANGE_PERSONALIZED, PYTHONPATH
        self.home = base / ("home-" + hashlib.sha1(sid.encode()).hexdigest()[:10])  # any id, even odd ones
        self.home.mkdir(parents=True, exist_ok=True)
        if uid is not None:
            os.chown(self.home, uid, uid)

    def nbgrader(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [
            *args,
            f"--course={self.course_id}",
            f"--Exchange.root={self.exchange}",
            f"--Exchange.cache={self.home / '.nbgrader_cache'}",
            "--Exchange.path_includes_course=True",
        ]
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(self.home),
            "JUPYTER_DATA_DIR": str(self.home / ".jupyter-data"),
            "LANG": "C.UTF-8",
            **self.env,
        }
        if self.uid is not None:
            return _as_user(self.uid, argv, env, self.home)
        return subprocess.run(
            [sys.executable, "-m", "nbgrader", *argv],
            cwd=self.home,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

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


def _as_user(uid: int, argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run an nbgrader app as another OS user, as a hub's single-user server would.

    The interpreter may live where other users cannot read it (a root-only pyenv), so the child is
    forked from this process with nbgrader already imported, then drops to ``uid`` and runs the app.
    """
    import multiprocessing
    import tempfile

    import nbgrader.apps.nbgraderapp  # imported before dropping privileges
    import nbgrader.exchange.default  # noqa: F401

    with tempfile.TemporaryFile("w+") as out:

        def child() -> None:
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            os.environ.clear()
            os.environ.update(env)
            os.chdir(cwd)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            from nbgrader.apps.nbgraderapp import NbGraderApp

            try:
                NbGraderApp.launch_instance(argv=argv)
            except SystemExit as e:
                os._exit(int(e.code or 0))
            os._exit(0)

        proc = multiprocessing.get_context("fork").Process(target=child)
        proc.start()
        proc.join(120)
        out.seek(0)
        text = out.read()
    return subprocess.CompletedProcess(argv, proc.exitcode if proc.exitcode is not None else -1, text, text)
