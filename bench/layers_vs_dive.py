"""Layer analysis vs dive, side by side in one run: from the engine, and from a `docker save` archive.

Usage: python bench/layers_vs_dive.py [IMAGE ...] [--repeat N]
Default images: the course's slim and full Python base images. Prints median seconds and the
ratio ours/dive for each (a ratio < 1 means helpers.layers is faster), and checks the figures agree.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.baseimages import base_image  # noqa: E402
from helpers.dive import dive_json  # noqa: E402
from helpers.layers import analyze_layers  # noqa: E402


def timed(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("images", nargs="*")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    images = args.images or [base_image("slim"), base_image("full")]
    print(f"{'image':45} {'source':8} {'ours s':>8} {'dive s':>8} {'ratio':>6}  figures equal")
    for image in images:
        with tempfile.TemporaryDirectory(prefix="bench-layers-") as tmp:
            archive = Path(tmp) / "image.tar"
            subprocess.run(["docker", "save", image, "-o", str(archive)], check=True)
            for label, ours_fn, dive_fn in (
                ("engine", lambda: analyze_layers(image), lambda: dive_json(image)),
                ("archive", lambda: analyze_layers(str(archive)), lambda: dive_json(str(archive), archive=True)),
            ):
                t_ours, ours = timed(ours_fn, args.repeat)
                t_dive, dive = timed(dive_fn, args.repeat)
                img = dive["image"]
                equal = (ours.size_bytes == img["sizeBytes"] and ours.wasted_bytes == img["inefficientBytes"]
                         and abs(ours.efficiency - img["efficiencyScore"]) <= 1e-9)
                print(f"{image:45} {label:8} {t_ours:8.2f} {t_dive:8.2f} {t_ours / t_dive:6.2f}  {equal}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
