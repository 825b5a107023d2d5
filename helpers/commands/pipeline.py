"""`python -m helpers pipeline`: run the CI pipeline (build, start, health, tests, logs, tear down) locally.

With ``--workflow`` the workflow's own steps are replayed, read through the same allow-list and run the same way
as when Lab 5 is graded (:mod:`helpers.ci.replayplan`, :mod:`helpers.ci.replayrun`); without it, the kit's own
stages run on the Dockerfile and context given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from helpers.ci.pipeline import run_pipeline
from helpers.grading.labs.lab5 import graded_pipeline

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.ci.pipeline"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pipeline", help="run the container CI pipeline of sample_python_app on the local engine", description=__doc__
    )
    p.add_argument("--workflow", help="replay this workflow's own steps, as Lab 5's grader does")
    p.add_argument("--context", help="build context (default: sample_python_app)")
    p.add_argument("--dockerfile", help="the app's Dockerfile (default: the kit's reference Dockerfile)")
    p.add_argument("--branch", default="feature", help="the branch this run stands for; only `main` pushes")
    p.add_argument("--logs", action="store_true", help="print the app's and the tests' logs too")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.workflow:
        return _replay(args)
    report = run_pipeline(args.context, args.dockerfile, branch=args.branch, log=lambda line: print(line, flush=True))
    if args.logs:
        print("--- app log ---\n" + report.app_log + "\n--- test log ---\n" + report.test_log)
    print(report.text())
    return report.exit_code


def _replay(args: argparse.Namespace) -> int:
    """The workflow's steps replayed as a pull request (any branch but main) or a push to main."""
    branch = "main" if args.branch == "main" else "feature/lab5"
    print(f"Replaying the steps of {args.workflow} as {'a push to main' if branch == 'main' else 'a pull request'}.")
    report = graded_pipeline(Path(args.workflow).read_text(), branch)
    for line in report.refused + report.notes:
        print("note:", line)
    if args.logs:
        print("--- app log ---\n" + report.app_log + "\n--- test log ---\n" + report.test_log)
    print(report.text())
    if report.left_behind:
        print("left behind by your steps (removed by the kit):", ", ".join(report.left_behind))
    return report.exit_code
