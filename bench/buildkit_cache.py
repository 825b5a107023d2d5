"""Cold build versus a rebuild that imports BuildKit's inline cache from the local registry.

Run: python bench/buildkit_cache.py   (needs the engine and the local registry: `make lab`)

Builds the kit's reference image of sample_python_app with an empty cache for this run,
pushes it with its inline cache, forgets the image and this run's cache records, and
rebuilds with --cache-from. Target: the imported-cache rebuild takes at most 25% of the
cold build.
"""

from __future__ import annotations

import sys

from helpers.ci.buildcache import cache_roundtrip
from helpers.engine.baseimages import base_image
from helpers.paths import course_root

TARGET = 0.25


def main() -> int:
    root = course_root()
    rt = cache_roundtrip(
        root / "sample_python_app",
        root / "helpers/data/sample-app/Dockerfile",
        build_args={"BUILD_IMAGE": base_image("full")},
    )
    cold, imported = rt.cold, rt.imported
    print(
        f"cold build (this run's cache empty)   : {cold.seconds:6.1f} s  "
        f"({sum(s.cached for s in cold.steps)}/{len(cold.steps)} steps cached)"
    )
    print(f"push with inline cache                : {rt.push_seconds:6.1f} s  ({rt.cache_ref})")
    print(f"local cache records removed           : {rt.pruned_records}")
    print(
        f"rebuild, cache imported (--cache-from): {imported.seconds:6.1f} s  "
        f"({sum(s.cached for s in imported.steps)}/{len(imported.steps)} steps cached)"
    )
    print(
        f"ratio imported / cold                 : {rt.ratio:6.1%}  (target <= {TARGET:.0%}: "
        f"{'met' if rt.ratio <= TARGET else 'NOT met'})"
    )
    return 0 if rt.ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
