"""`python -m helpers scan SOURCE [--json]`: known vulnerabilities in an image or archive."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from helpers.supplychain.scan import scan

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.supplychain.scan"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="scan an image or image archive for known vulnerabilities (trivy, grype, OSV API or offline snapshot)",
        description="Uses trivy or grype when installed, else the OSV API when reachable, "
        "else the kit's offline OSV snapshot; says which, and how old the snapshot is.",
    )
    p.add_argument("source", metavar="SOURCE", help="image reference on the engine, or a `docker save` archive")
    p.add_argument("--json", action="store_true", help="print the findings as a JSON list")
    p.add_argument(
        "--source",
        dest="adv_source",
        default="auto",
        choices=["auto", "trivy", "grype", "osv-api", "snapshot"],
        help="advisory source (default: auto)",
    )
    p.add_argument("--fail-on", metavar="SEVERITY", help="exit 1 when a finding is at or above this severity")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    result = scan(args.source, source=args.adv_source)
    print(result.describe(), file=sys.stderr)
    if args.json:
        print(json.dumps([asdict(f) for f in result.findings], indent=2))
    else:
        df = result.to_frame()
        print(
            df[["severity", "id", "package", "installed_version", "fixed_version"]].to_string(index=False)
            if len(df)
            else "no findings"
        )
        print(" ".join(f"{k}={v}" for k, v in result.counts().items()))
    if args.fail_on and result.at_or_above(args.fail_on):
        return 1
    return 0
