"""Layer analysis vs dive, side by side in one run: from the engine, and from a `docker save` archive.

Usage: python bench/layers_vs_dive.py [IMAGE ...] [--repeat N]
Default images: the course's slim and full Python base images. Prints median wall-clock and CPU
seconds and the ratios ours/dive (< 1: helpers.layers.analysis is faster), and checks the figures agree.
From the engine, helpers reads overlay2 directories when it can (else it streams `docker save`).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.engine.baseimages import base_image
from helpers.layers.analysis import analyze_layers
from helpers.layers.dive import dive_json


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (dive runs as a child)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, repeat):
    """Median wall and CPU seconds over ``repeat`` runs, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), _cpu()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("images", nargs="*")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    images = args.images or [base_image("slim"), base_image("full")]
    print("Engine note: CPU of the engine's own `docker save` work is not counted for either side.")
    print(
        f"{'image':40} {'source':8} {'ours s':>7} {'dive s':>7} {'ratio':>6} {'ours cpu':>8} {'dive cpu':>8} "
        f"{'ratio':>6}  equal"
    )
    for image in images:
        with tempfile.TemporaryDirectory(prefix="bench-layers-") as tmp:
            archive = Path(tmp) / "image.tar"
            subprocess.run(["docker", "save", image, "-o", str(archive)], check=True)
            for label, ours_fn, dive_fn in (
                ("engine", lambda i=image: analyze_layers(i), lambda i=image: dive_json(i)),
                (
                    "archive",
                    lambda a=archive: analyze_layers(str(a)),
                    lambda a=archive: dive_json(str(a), archive=True),
                ),
            ):
                t_ours, c_ours, ours = timed(ours_fn, args.repeat)
                t_dive, c_dive, dive = timed(dive_fn, args.repeat)
                img = dive["image"]
                equal = (
                    ours.size_bytes == img["sizeBytes"]
                    and ours.wasted_bytes == img["inefficientBytes"]
                    and abs(ours.efficiency - img["efficiencyScore"]) <= 1e-9
                )
                print(
                    f"{image:40} {label:8} {t_ours:7.2f} {t_dive:7.2f} {t_ours / t_dive:6.2f} {c_ours:8.2f} "
                    f"{c_dive:8.2f} {c_ours / c_dive:6.2f}  {equal}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
