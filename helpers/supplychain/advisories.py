"""Vulnerability advisories in OSV format: the offline snapshot, the OSV API, and matching.

The snapshot under ``helpers/data/advisories/`` holds real records only: PyPI records copied
from the PyPA advisory database and Debian records taken from the changelogs of the fixed
packages in ``bookworm-security``. ``SNAPSHOT.json`` there records when it was taken.
A record's severity comes from :mod:`helpers.supplychain.severity` (CVSS v3 scoring).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.errors import AdvisoryError
from helpers.paths import DATA_DIR
from helpers.supplychain.severity import severity_of
from helpers.supplychain.versions import compare_versions

__all__ = [
    "Advisory",
    "AdvisoryDB",
    "load_snapshot",
    "parse_record",
    "osv_api_query",
    "osv_api_reachable",
    "default_snapshot_dir",
]

OSV_API = "https://api.osv.dev/v1/querybatch"


def default_snapshot_dir() -> Path:
    """Where the kit's offline OSV snapshot lives (``helpers/data/advisories``)."""
    return DATA_DIR / "advisories"


@dataclass
class Advisory:
    """One OSV record, reduced to what matching needs."""

    id: str
    aliases: list[str]
    summary: str
    severity: str
    affected: list[dict[str, Any]]
    source: str = ""

    def match(self, ecosystem: str, name: str, version: str) -> tuple[bool, str]:
        """Whether ``name==version`` in ``ecosystem`` is affected; returns (affected, fixed version)."""
        for aff in self.affected:
            pkg = aff.get("package", {})
            if _eco_base(pkg.get("ecosystem", "")) != _eco_base(ecosystem) or _name(
                pkg.get("name", ""), ecosystem
            ) != _name(name, ecosystem):
                continue
            aff_eco = pkg.get("ecosystem", "")
            if ":" in aff_eco and ":" in ecosystem and aff_eco != ecosystem:
                continue  # Debian:11 records do not apply to Debian:12
            if version in (aff.get("versions") or []):
                return True, _first_fixed(aff)
            for rng in aff.get("ranges") or []:
                if rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
                    continue
                hit, fixed = _in_range(rng.get("events") or [], aff_eco or ecosystem, version)
                if hit:
                    return True, fixed
        return False, ""


def _eco_base(eco: str) -> str:
    return eco.split(":")[0].lower()


def _name(name: str, eco: str) -> str:
    if _eco_base(eco) == "pypi":
        return name.lower().replace("_", "-").replace(".", "-")
    return name


def _first_fixed(aff: dict[str, Any]) -> str:
    for rng in aff.get("ranges") or []:
        for ev in rng.get("events") or []:
            if "fixed" in ev and rng.get("type") != "GIT":
                return str(ev["fixed"])
    return ""


def _in_range(events: list[dict[str, str]], eco: str, version: str) -> tuple[bool, str]:
    affected, fixed = False, ""
    for ev in events:  # OSV: events in order; introduced opens, fixed/last_affected closes
        if "introduced" in ev:
            intro = str(ev["introduced"])
            if intro == "0" or compare_versions(eco, version, intro) >= 0:
                affected = True
        elif "fixed" in ev and affected:
            if compare_versions(eco, version, str(ev["fixed"])) < 0:
                return True, str(ev["fixed"])
            affected = False
        elif "last_affected" in ev and affected:
            if compare_versions(eco, version, str(ev["last_affected"])) <= 0:
                return True, ""
            affected = False
    return affected, fixed


def parse_record(data: Any, origin: str = "") -> Advisory:
    """Check and reduce one OSV record.

    Raises:
        AdvisoryError: The record lacks ``id`` or ``affected``, or they have the wrong shape.
    """
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise AdvisoryError(
            f'Advisory file {origin or "?"} is not an OSV record (no "id").',
            "Fix or delete the file; the format is https://ossf.github.io/osv-schema/.",
        )
    affected = data.get("affected")
    if not isinstance(affected, list) or not all(isinstance(a, dict) and "package" in a for a in affected):
        raise AdvisoryError(
            f'Advisory {data["id"]} in {origin or "?"} has no valid "affected" list.',
            "Each OSV record needs affected: [{package: {ecosystem, name}, ranges: [...]}].",
        )
    return Advisory(
        data["id"],
        list(data.get("aliases") or []),
        str(data.get("summary") or data.get("details", ""))[:200],
        severity_of(data),
        affected,
        str((data.get("database_specific") or {}).get("source", "")),
    )


@dataclass
class AdvisoryDB:
    """A set of advisories indexed by (ecosystem, package name).

    Attributes:
        advisories: The records.
        taken: When the snapshot was taken (None for live data).
        description: Where the records come from.
    """

    advisories: list[Advisory] = field(default_factory=list)
    taken: dt.date | None = None
    description: str = ""

    def __post_init__(self) -> None:
        self._index: dict[tuple[str, str], list[Advisory]] = {}
        for adv in self.advisories:
            for aff in adv.affected:
                pkg = aff.get("package", {})
                eco = pkg.get("ecosystem", "")
                key = (_eco_base(eco), _name(pkg.get("name", ""), eco))
                if adv not in self._index.setdefault(key, []):
                    self._index[key].append(adv)

    def age_days(self, today: dt.date | None = None) -> int | None:
        """Days since the snapshot was taken."""
        return None if self.taken is None else ((today or dt.date.today()) - self.taken).days

    def lookup(self, ecosystem: str, name: str, version: str) -> list[tuple[Advisory, str]]:
        """Advisories that affect ``name==version``, with the fixed version of each."""
        hits = []
        for adv in self._index.get((_eco_base(ecosystem), _name(name, ecosystem)), []):
            ok, fixed = adv.match(ecosystem, name, version)
            if ok:
                hits.append((adv, fixed))
        return hits


def load_snapshot(directory: str | os.PathLike[str] | None = None) -> AdvisoryDB:
    """Load the offline advisory snapshot (every ``*.json`` OSV record below ``directory``).

    Raises:
        AdvisoryError: A file is not valid JSON or not an OSV record, or the snapshot is missing.
    """
    root = Path(directory) if directory else default_snapshot_dir()
    meta_file = root / "SNAPSHOT.json"
    if not meta_file.is_file():
        raise AdvisoryError(
            f"No advisory snapshot at {root} (SNAPSHOT.json is missing).",
            "Restore helpers/data/advisories from git, or pass the folder of your own snapshot.",
        )
    meta = _read_json(meta_file)
    records = []
    for f in sorted(root.rglob("*.json")):
        if f.name == "SNAPSHOT.json":
            continue
        records.append(parse_record(_read_json(f), str(f.relative_to(root))))
    try:
        taken = dt.date.fromisoformat(str(meta["taken"]))
    except (KeyError, ValueError) as e:
        raise AdvisoryError(f'{meta_file} has no valid "taken" date.', "Write the date as YYYY-MM-DD.") from e
    return AdvisoryDB(records, taken, str(meta.get("description", "")))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AdvisoryError(
            f"Advisory file {path.name} cannot be read: {e}.",
            "Fix the JSON or delete the file (git checkout restores the kit's own files).",
        ) from e


def osv_api_reachable(timeout: float = 3.0) -> bool:
    """Whether the OSV API answers (a cheap POST with an empty batch)."""
    import requests

    try:
        return requests.post(OSV_API, json={"queries": []}, timeout=timeout).status_code < 500
    except requests.RequestException:
        return False


def osv_api_query(packages: Iterable[tuple[str, str, str]], timeout: float = 30.0) -> AdvisoryDB:
    """Ask the OSV API about (ecosystem, name, version) triples; returns the full records found.

    Raises:
        AdvisoryError: The API cannot be reached or answers nonsense.
    """
    import requests

    pkgs = list(packages)
    try:
        resp = requests.post(
            OSV_API,
            timeout=timeout,
            json={"queries": [{"package": {"ecosystem": e, "name": n}, "version": v} for e, n, v in pkgs]},
        )
        resp.raise_for_status()
        ids = {v["id"] for r in resp.json().get("results", []) for v in r.get("vulns") or []}
        records = []
        for vid in sorted(ids):
            r = requests.get(f"https://api.osv.dev/v1/vulns/{vid}", timeout=timeout)
            r.raise_for_status()
            records.append(parse_record(r.json(), "OSV API"))
    except (requests.RequestException, ValueError) as e:
        raise AdvisoryError(f"The OSV API could not be queried: {e}.", "Scan with source='snapshot' (offline).") from e
    return AdvisoryDB(records, None, "OSV API (live)")
