"""`python -m helpers compose ...`: the sample app with PostgreSQL under Compose, and its Kubernetes mapping."""

from __future__ import annotations

import argparse

from helpers.ci.compose import ComposeStack
from helpers.ci.composefile import SAMPLE_COMPOSE, load_compose
from helpers.ci.k8s import compose_to_k8s, manifests_yaml
from helpers.ci.samplestack import prepare_sample_images, smoke_test

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.ci.compose (Compose stacks), helpers.ci.k8s (Kubernetes manifests)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compose", help="run sample_python_app + PostgreSQL with Compose, or map it to Kubernetes", description=__doc__
    )
    p.add_argument(
        "action",
        choices=["up", "ps", "logs", "down", "check", "k8s"],
        help="up: build and start, wait for health; check: up, smoke-test, logs, down; "
        "k8s: print Kubernetes manifests (no engine needed)",
    )
    p.add_argument("--file", help="compose file (default: the kit's sample-app compose.yaml)")
    p.add_argument("--port", default="8080", help="host port for the app (127.0.0.1)")
    p.add_argument("--show-secrets", action="store_true", help="k8s: print Secret values instead of <redacted>")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    path = args.file or SAMPLE_COMPOSE
    if args.action == "k8s":
        doc, lines = load_compose(path)
        print(manifests_yaml(compose_to_k8s(doc, str(path), lines).manifests, redact=not args.show_secrets))
        return 0
    stack = ComposeStack([path], env={"APP_PORT": args.port})
    if args.action in ("up", "check"):
        stack.env.update(prepare_sample_images())
        print(stack.up())
    if args.action == "check":
        try:
            results = smoke_test(f"http://127.0.0.1:{args.port}")
            print(stack.logs(tail=5))
            for name, ok, detail in results:
                print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        finally:
            stack.down()
        return 0 if all(ok for _, ok, _ in results) else 1
    if args.action == "ps":
        print(stack.ps().to_string(index=False))
    elif args.action == "logs":
        print(stack.logs(tail=50))
    elif args.action == "down":
        stack.down()
    return 0
