"""``python -m helpers sample``: build the sample app's reference images, or show their Dockerfiles."""

from __future__ import annotations

import argparse
import sys

from helpers.kit.sampleapp import VARIANTS, build_sample_image, reference_dockerfile

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.kit.sampleapp"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sample",
        help="build the sample app with a reference Dockerfile (naive or optimized)",
        description="Build sample-api:<variant> from the reference Dockerfiles of Labs 1 and 2 "
        "(what the later notebooks use), or print a reference Dockerfile.",
    )
    p.add_argument(
        "variants",
        nargs="*",
        default=list(VARIANTS),
        metavar="VARIANT",
        help="naive (Lab 1's reference) and/or optimized (Lab 2's); default both",
    )
    p.add_argument("--show", action="store_true", help="print the reference Dockerfile(s) instead of building")
    p.set_defaults(func=_sample)


def _sample(args: argparse.Namespace) -> int:
    for variant in args.variants:
        if variant not in VARIANTS:
            print(f"unknown variant {variant!r}: choose from {', '.join(VARIANTS)}", file=sys.stderr)
            return 2
        if args.show:
            print(f"# --- {variant} ---\n{reference_dockerfile(variant)}")
            continue
        result = build_sample_image(variant)
        print(
            f"{result.tags[0]}: built in {result.seconds:.1f} s ({result.cache_hits} of {len(result.steps)} "
            f"steps from cache), base {result.build_args.get('BASE_IMAGE', '?')}"
        )
    return 0
