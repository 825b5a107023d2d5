"""``python -m helpers env up|status|down``."""

from __future__ import annotations

import argparse

from helpers.engine import env
from helpers.engine.baseimages import FAMILIES
from helpers.engine.registry import local_registry

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.engine.env: up() starts the lab engine through helpers.engine.daemon"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "env",
        help="bring the Docker lab environment up, show its status, take it down",
        description="The Docker lab environment: engine, BuildKit, base images, registry, tools.",
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    u = verbs.add_parser("up", help="start or build whatever is missing (idempotent)")
    u.add_argument("--vm-tools", action="store_true", help="also install qemu and a kernel (root on Debian/Ubuntu)")
    u.add_argument(
        "--test-tools",
        action="store_true",
        help="also install what only `make test` uses: chromium (browser test), PostgreSQL (shards test); root, Debian",
    )
    u.add_argument(
        "--base-family",
        action="append",
        default=[],
        choices=list(FAMILIES),
        metavar="NAME",
        help=f"also build this family's stand-in base images ({', '.join(FAMILIES)}; repeatable); the labs use "
        "COURSE_BASE_FAMILY's (default bookworm)",
    )
    u.set_defaults(func=_up)
    s = verbs.add_parser("status", help="show a short table of every part")
    s.add_argument(
        "--show-credentials", action="store_true", help="also print the local registry's user name and password"
    )
    s.set_defaults(func=_status)
    d = verbs.add_parser("down", help="stop the registry and the engine the kit started")
    d.add_argument(
        "--purge", action="store_true", help="also remove every kit-labelled resource and the local base images"
    )
    d.add_argument("--keep-engine", action="store_true", help="leave the Docker Engine running")
    d.set_defaults(func=_down)


def _up(args: argparse.Namespace) -> int:
    rows = env.up(vm_tools=args.vm_tools, test_tools=args.test_tools, base_families=tuple(args.base_family))
    print(env.format_status(rows))
    return 0 if all(r.ok or not r.required for r in rows) else 1


def _status(args: argparse.Namespace) -> int:
    rows = env.status()
    print(env.format_status(rows))
    if args.show_credentials:
        info = local_registry()
        print(f"\nregistry login: docker login {info.address} -u {info.username} -p {info.password}")
    return 0 if all(r.ok or not r.required for r in rows) else 1


def _down(args: argparse.Namespace) -> int:
    env.down(purge=args.purge, stop_engine=not args.keep_engine)
    return 0
