"""`python -m helpers pipeline`: run the CI pipeline (build, start, health, tests, logs, tear down) locally."""

from __future__ import annotations

import argparse

from helpers.ci.pipeline import build_from_workflow, run_pipeline

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.ci.pipeline"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pipeline", help="run the container CI pipeline of sample_python_app on the local engine", description=__doc__
    )
    p.add_argument("--workflow", help="take the Dockerfile and context from this workflow's `docker build` step")
    p.add_argument("--context", help="build context (default: sample_python_app)")
    p.add_argument("--dockerfile", help="the app's Dockerfile (default: the kit's reference Dockerfile)")
    p.add_argument("--branch", default="feature", help="the branch this run stands for; only `main` pushes")
    p.add_argument("--logs", action="store_true", help="print the app's and the tests' logs too")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    dockerfile, context = args.dockerfile, args.context
    if args.workflow:
        dockerfile, context = build_from_workflow(args.workflow)
    report = run_pipeline(context, dockerfile, branch=args.branch, log=lambda line: print(line, flush=True))
    if args.logs:
        print("--- app log ---\n" + report.app_log + "\n--- test log ---\n" + report.test_log)
    print(report.text())
    return report.exit_code
