"""Refresh the Debian part of the offline advisory snapshot from real Debian changelogs.

In a container of the course's slim base image, enable bookworm-security (derived from the
image's own apt source), download every upgradable package, and read the changelog inside
each .deb. Every CVE or GHSA id that a bookworm / bookworm-security entry names becomes one
OSV record (``DEBIAN-<id>``, ecosystem ``Debian:12``, the source package, fixed in the
first version whose changelog names it). Then SNAPSHOT.json gets today's date.

Usage: python scripts/refresh_debian_advisories.py [--changelogs FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from helpers.supplychain.versions import dpkg_compare  # noqa: E402

OUT = ROOT / "helpers" / "data" / "advisories"

COLLECT = r"""set -e
# The course's stand-ins (and the official images) list bookworm-security in deb822 debian.sources; an older
# stand-in had one line in sources.list without it: add it there only.
if ! grep -rqs bookworm-security /etc/apt/sources.list /etc/apt/sources.list.d; then
  sed -n 's#^deb \(\S*\)/debian bookworm main#deb \1/debian-security bookworm-security main#p' /etc/apt/sources.list \
    > /etc/apt/sources.list.d/security.list
fi
apt-get update -qq >/dev/null 2>&1
cd /tmp
for p in $(apt list --upgradable 2>/dev/null | grep / | cut -d/ -f1); do apt-get download -qq $p >/dev/null 2>&1 || true; done
for f in *.deb; do
  mkdir -p x; dpkg-deb -x $f x
  pkg=$(dpkg-deb -f $f Package); ver=$(dpkg-deb -f $f Version)
  cl=$(ls x/usr/share/doc/$pkg/changelog.Debian.gz 2>/dev/null || ls x/usr/share/doc/*/changelog.Debian.gz 2>/dev/null | head -1)
  echo "=== $pkg $ver"
  [ -n "$cl" ] && zcat $cl
  rm -rf x
done
"""

_HEAD = re.compile(r"^(\S+) \(([^)]+)\) ([^;]+); urgency=(\w+)")
_TRAIL = re.compile(r"^ -- .+?>\s+(.+)$")
_IDS = re.compile(r"\b(CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3})\b")


def _line_ids(line: str) -> list[str]:
    """The ids a changelog line says it fixes: its first id, and ids standing alone in parentheses.

    ("- CVE-2026-8328: Apply CVE-2021-4189 PASV fix" fixes CVE-2026-8328 only.)
    """
    ids = _IDS.findall(line)
    keep = ids[:1] + re.findall(r"\((CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3})\)", line)
    return list(dict.fromkeys(keep))


def parse_changelogs(text: str) -> dict[tuple[str, str], dict]:
    """(source, id) -> {fixed, dist, urgency, date}: the earliest changelog entry naming the id.

    Ids first named in an entry that is not for bookworm (fixed before the release) are dropped.
    """
    found: dict[tuple[str, str], dict] = {}
    entry: dict | None = None
    for line in text.splitlines():
        if m := _HEAD.match(line):
            entry = {
                "source": m.group(1),
                "version": m.group(2),
                "dist": m.group(3).strip(),
                "urgency": m.group(4),
                "ids": set(),
            }
        elif entry and (m := _TRAIL.match(line)):
            date = email.utils.parsedate_to_datetime(m.group(1)).astimezone(dt.UTC)
            for vid in entry["ids"]:
                key = (entry["source"], vid)
                old = found.get(key)
                if old is None or dpkg_compare(entry["version"], old["fixed"]) < 0:
                    found[key] = {
                        "fixed": entry["version"],
                        "dist": entry["dist"],
                        "urgency": entry["urgency"],
                        "date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
            entry = None
        elif entry:
            entry["ids"].update(_line_ids(line))
    return {k: v for k, v in found.items() if "bookworm" in v["dist"]}


def records(found: dict[tuple[str, str], dict]) -> list[dict]:
    """One OSV record per id; a CVE fixed in several source packages lists each of them."""
    by_id: dict[str, dict] = {}
    for (source, vid), info in sorted(found.items()):
        rec = by_id.setdefault(
            vid,
            {
                "schema_version": "1.6.0",
                "id": f"DEBIAN-{vid}",
                "aliases": [vid],
                "published": info["date"],
                "modified": info["date"],
                "summary": f"{vid}, named in the Debian changelog of the fixed package",
                "affected": [],
                "database_specific": {"source": [], "urgency": info["urgency"]},
            },
        )
        rec["affected"].append(
            {
                "package": {"ecosystem": "Debian:12", "name": source},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": info["fixed"]}]}],
            }
        )
        rec["database_specific"]["source"].append(
            f"debian/changelog of {source} {info['fixed']} ({info['dist']}, urgency={info['urgency']})"
        )
    for rec in by_id.values():
        rec["database_specific"]["source"] = "; ".join(rec["database_specific"]["source"])
    return list(by_id.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changelogs", help="a changelog dump made earlier (skip the container)")
    ap.add_argument("--image", default="", help="image to read (default: the course's slim base image)")
    args = ap.parse_args()
    if not args.changelogs and not args.image:
        from helpers.engine.baseimages import base_image

        args.image = base_image("slim")
    if args.changelogs:
        text = Path(args.changelogs).read_text()
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as fh:
            fh.write(COLLECT)
        text = subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                "--label",
                "org.dockercourse.kit=true",
                "-v",
                f"{fh.name}:/collect.sh:ro",
                args.image,
                "bash",
                "/collect.sh",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    recs = records(parse_changelogs(text))
    deb = OUT / "debian"
    deb.mkdir(parents=True, exist_ok=True)
    for old in deb.glob("*.json"):
        old.unlink()
    for r in recs:
        (deb / f"{r['id']}.json").write_text(json.dumps(r, indent=2) + "\n")
    meta_path = OUT / "SNAPSHOT.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    meta["taken"] = dt.date.today().isoformat()
    meta["debian_records"] = len(recs)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{len(recs)} Debian records written to {deb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
