"""`python -m helpers layers SOURCE [--json] [--ci]`: layer analysis, dive's figures and CI rules."""

from __future__ import annotations

import argparse
import json

from helpers.layers.analysis import analyze_layers
from helpers.layers.ci_rules import evaluate_ci

__all__ = ["register", "run"]

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.layers.analysis (dive's figures), helpers.layers.filetree (the true waste)"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "layers",
        help="Analyse an image's layers (dive's efficiency and wasted bytes, plus the true figures).",
        description="Analyse an image from the engine (a reference) or from a `docker save` archive (a path).",
    )
    p.add_argument("source", metavar="SOURCE", help="image reference, or path of a docker save archive")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--files", action="store_true", help="with --json: include the wasted file list")
    p.add_argument("--ci", action="store_true", help="apply dive's CI rules; exit 1 when one fails")
    p.add_argument("--ci-config", default=".dive-ci", help="dive CI rules file (default: .dive-ci, if it exists)")
    for flag, dest, text in (
        ("--lowestEfficiency", "lowestEfficiency", "lowest allowed efficiency (default 0.9)"),
        ("--highestWastedBytes", "highestWastedBytes", "highest allowed wasted bytes, e.g. 20MB (default disabled)"),
        ("--highestUserWastedPercent", "highestUserWastedPercent", "highest allowed user wasted ratio (default 0.1)"),
    ):
        p.add_argument(flag, dest=dest, default=None, help=text + "; `disabled` skips the rule")
    p.set_defaults(func=run)


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return str(n)


def run(args: argparse.Namespace) -> int:

    analysis = analyze_layers(args.source)
    ci = None
    if args.ci:
        overrides = {
            k: getattr(args, k) for k in ("lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent")
        }
        ci = evaluate_ci(analysis, overrides, args.ci_config)
    if args.json:
        out = analysis.to_dict(files=args.files)
        if ci is not None:
            out["ci"] = {"passed": ci.passed, "rules": [r.__dict__ for r in ci.rules]}
        print(json.dumps(out, indent=2))
    else:
        a = analysis
        print(f"Image: {a.source}  ({len(a.layers)} layers)")
        print(f"  size:               {_human(a.size_bytes)} ({a.size_bytes} bytes)")
        print(f"  efficiency (dive):  {a.efficiency * 100:.4f} %")
        print(f"  wasted (dive):      {_human(a.wasted_bytes)}   user wasted: {a.user_wasted_percent * 100:.4f} %")
        print(f"  true wasted:        {_human(a.true_wasted_bytes)}   true efficiency: {a.true_efficiency * 100:.4f} %")
        for layer in a.layers:
            print(f"  [{layer.index:>2}] {_human(layer.size_bytes):>10}  {layer.command[:90]}")
        if ci is not None:
            print(ci.report())
    return 0 if ci is None or ci.passed else 1
