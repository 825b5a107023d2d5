"""`python -m helpers review DOCKERFILE [--json]`: hadolint plus the course's best-practice rules."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from helpers.review.rules import review_dockerfile

__all__ = ["register", "run"]

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.review.rules (the parser: helpers.review.dockerfile)"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "review",
        help="Review a Dockerfile: hadolint's findings plus the course's rules (rule, line, severity, message, fix).",
        description="Review a Dockerfile. Its .dockerignore is DOCKERFILE.dockerignore or .dockerignore beside it.",
    )
    p.add_argument("dockerfile", metavar="DOCKERFILE", help="path of the Dockerfile")
    p.add_argument("--json", action="store_true", help="print a JSON list of findings")
    p.add_argument("--no-hadolint", action="store_true", help="only the course rules")
    p.add_argument(
        "--fail-on",
        choices=["error", "warning", "info", "never"],
        default="never",
        help="exit 1 when a finding is at least this severe (default: never)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    findings = review_dockerfile(args.dockerfile, hadolint=not args.no_hadolint)
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        for f in findings:
            print(f"{args.dockerfile}:{f.line} {f.severity:<7} {f.rule:<7} {f.message}\n    fix: {f.fix}")
        print(f"{len(findings)} finding(s)")
    levels = ["error", "warning", "info", "style"]
    if args.fail_on != "never":
        worst = levels.index(args.fail_on)
        if any(levels.index(f.severity) <= worst for f in findings if f.severity in levels):
            return 1
    return 0
