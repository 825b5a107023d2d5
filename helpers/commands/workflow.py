"""`python -m helpers workflow FILE`: check a GitHub Actions workflow for a container pipeline."""

from __future__ import annotations

import argparse

from helpers.ci.workflow import check_workflow
from helpers.ci.workflowfile import load_workflow
from helpers.ci.workflowsec import security_review

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.ci.workflow"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "workflow",
        help="check a GitHub Actions workflow (triggers, build, tests, push on main, secrets)",
        description=__doc__,
    )
    p.add_argument("file", help="the workflow file, e.g. .github/workflows/sample-app.yml")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    report = check_workflow(args.file, lint=True)
    print(report.text())
    security = security_review(load_workflow(args.file))
    for problem in security:
        print(f"FAIL  {'security':<22} {problem}")
    if not security:
        print(f"PASS  {'security':<22} least-privilege token, no injection, actions pinned, push gated, clean-up")
    return 0 if report.passed and not security else 1
