"""Lab 2 targets, measured side by side in one run on the real engine.

- size: optimized sample-app image / naive one, same base family (target <= 40 %);
- rebuild after a one-line source change / cold build of the optimized image (target <= 15 %).

Run: ``python bench/lab2_size_and_rebuild.py`` (needs the engine and the base images; about 2 min).
"""

from __future__ import annotations

import sys

from helpers.engine.client import engine_available
from helpers.kit.sampleapp import measure_builds, reference_dockerfile, reference_dockerignore


def main() -> int:
    if not engine_available():
        print("No Docker Engine answers: start one with `python -m helpers env up`.")
        return 2
    variants = {
        "naive (Lab 1 reference)": (reference_dockerfile("naive"), None),
        "optimized (Lab 2 reference)": (reference_dockerfile("optimized"), reference_dockerignore()),
    }
    df = measure_builds(variants, cold=True)
    print(df.to_string())
    naive, opt = df.iloc[0], df.iloc[1]
    size_ratio = opt["size_mb"] / naive["size_mb"]
    rebuild_ratio = opt["source_change_s"] / opt["cold_s"]
    print(
        f"\nsize optimized/naive:              {size_ratio:6.1%}  (target <= 40%)  "
        f"{'OK' if size_ratio <= 0.40 else 'MISSED'}"
    )
    print(
        f"rebuild after source change / cold: {rebuild_ratio:6.1%}  (target <= 15%)  "
        f"{'OK' if rebuild_ratio <= 0.15 else 'MISSED'}"
    )
    print(f"(naive: rebuild after source change / cold = {naive['source_change_s'] / naive['cold_s']:.1%})")
    return 0 if size_ratio <= 0.40 and rebuild_ratio <= 0.15 else 1


if __name__ == "__main__":
    sys.exit(main())
