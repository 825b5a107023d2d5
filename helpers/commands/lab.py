"""``python -m helpers lab``: serve the course in JupyterLab."""

from __future__ import annotations

import argparse
import os

from helpers.kit import labserver
from helpers.paths import course_root

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.kit.labserver"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lab",
        help="start JupyterLab on 127.0.0.1 with the course index open",
        description="Start JupyterLab (port 8888, or the next free one) and print its URL with the token. "
        "Without source/ (the students' copy) or with COURSE_ROLE=student, the instructor's nbgrader tools are off.",
    )
    p.add_argument("--port", type=int, default=8888, help="preferred port (the next free one is used if it is taken)")
    p.add_argument("--print-only", action="store_true", help="print the command and URL instead of starting")
    p.set_defaults(func=_lab)


def _lab(args: argparse.Namespace) -> int:
    port = labserver.free_port(args.port)
    if port != args.port:
        print(f"Port {args.port} is in use (another JupyterLab?); using {port}.")
    argv, url = labserver.lab_command(port)
    role = labserver.lab_role()
    if role == "student":
        print("Student set-up: the Assignments panel, without the instructor's formgrader and Create Assignment.")
    print(f"\nOpen the course at:\n\n    {url}\n\n(Ctrl-C stops JupyterLab.)\n", flush=True)
    if args.print_only:
        print(" ".join(argv))
        return 0
    os.chdir(course_root())  # nbgrader's extensions read ./nbgrader_config.py
    os.execve(argv[0], argv, labserver.lab_env(role))
    return 0  # not reached
