"""`python -m helpers layers-prebuilt [DIR]`: export the layer lesson's images for engine-less classrooms."""

from __future__ import annotations

import argparse

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "layers-prebuilt",
        help="Build the layer-analysis lesson images and `docker save` them into prebuilt/ (for `make prebuilt`).",
        description="Notebook 10 reads prebuilt/layers-wasteful.tar and prebuilt/layers-lean.tar when no engine answers.",
    )
    p.add_argument("dest", nargs="?", default=None, help="output folder (default: <course root>/prebuilt)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..layers_lab import export_prebuilt

    for path in export_prebuilt(args.dest):
        print(path)
    return 0
