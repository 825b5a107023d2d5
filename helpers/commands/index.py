"""``python -m helpers index``: regenerate the index notebook."""

from __future__ import annotations

import argparse

from helpers.kit.index import index_is_current, write_index

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.kit.index"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "index",
        help="regenerate notebooks/00-index.ipynb from the notebooks on disk",
        description="Regenerate the index notebook (never edit it by hand).",
    )
    p.add_argument("--check", action="store_true", help="only check that the index is up to date (exit 1 if not)")
    p.set_defaults(func=_index)


def _index(args: argparse.Namespace) -> int:
    if args.check:
        ok = index_is_current()
        print("index is up to date" if ok else "index is out of date: run `make index`")
        return 0 if ok else 1
    print(f"wrote {write_index()}")
    return 0
