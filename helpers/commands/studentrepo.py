"""``python -m helpers student-repo DEST``: write the students' copy of the course (no solutions)."""

from __future__ import annotations

import argparse

from helpers.kit.studentrepo import build_student_repo

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.kit.studentrepo"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "student-repo",
        help="write the students' copy of the course into an empty folder (labs, lessons, kit; no solutions)",
        description="Write released labs, lessons, the sample app without Dockerfiles, the kit, the dev container "
        "and a student README into DEST: a starting point for a GitHub template or Classroom repository.",
    )
    p.add_argument("dest", help="a new or empty folder outside the course checkout")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    print(build_student_repo(args.dest).text())
    return 0
