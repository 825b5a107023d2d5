"""A thin command line over the library: one sub-command per module in ``helpers/commands``.

Each command module defines ``register(subparsers)``, which adds its parser with help text
and sets ``func`` to a function taking the parsed arguments and returning an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from helpers import commands
from helpers.errors import CourseError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers",
        description="Docker for CI/CD practitioners: the course kit's command line.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    where = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
        where.append(f"  {info.name:<9} {module.LIBRARY}")
    parser.epilog = "where the work is done (each command is a thin layer over these modules):\n" + "\n".join(where)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CourseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
