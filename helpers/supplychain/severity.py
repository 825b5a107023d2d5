"""Severity of a vulnerability: CVSS v3 base scores and the rating names scanners show.

The one owner of the CVSS v3 vector format and of the severity ranks (``SEVERITIES``), so that
advisories, scan results and plots order and name severities the same way.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["SEVERITIES", "cvss3_score", "severity_of"]

#: Severity ranks, lowest first (UNKNOWN ranks lowest, as trivy does).
SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"]

#: CVSS v3.1 metric weights (specification, section 7.4); "C" serves for C, I and A alike.
_W = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
}


def _roundup(x: float) -> float:
    """CVSS v3.1 Roundup: the smallest one-decimal number >= ``x``, immune to float noise."""
    i = int(round(x * 100000))
    return i / 100000.0 if i % 10000 == 0 else (math.floor(i / 10000) + 1) / 10.0


def cvss3_score(vector: str) -> float:
    """Base score of a CVSS v3.x vector (the FIRST specification's formula).

    Raises:
        ValueError: The vector is not a CVSS v3 base vector.
    """
    parts = dict(p.split(":", 1) for p in vector.split("/")[1:])
    if not vector.startswith("CVSS:3"):
        raise ValueError(f"not a CVSS v3 vector: {vector}")
    scope_changed = parts["S"] == "C"
    pr = {"N": 0.85, "L": 0.68 if scope_changed else 0.62, "H": 0.5 if scope_changed else 0.27}[parts["PR"]]
    iss = 1 - (1 - _W["C"][parts["C"]]) * (1 - _W["C"][parts["I"]]) * (1 - _W["C"][parts["A"]])
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if scope_changed else 6.42 * iss
    expl = 8.22 * _W["AV"][parts["AV"]] * _W["AC"][parts["AC"]] * pr * _W["UI"][parts["UI"]]
    if impact <= 0:
        return 0.0
    raw = 1.08 * (impact + expl) if scope_changed else impact + expl
    return _roundup(min(raw, 10))


def _rating(score: float) -> str:
    """The qualitative rating of a CVSS v3 score (CVSS calls 0.0 'None'; it ranks as UNKNOWN here)."""
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    return "LOW" if score > 0 else "UNKNOWN"


def severity_of(record: dict[str, Any]) -> str:
    """Severity of an OSV record: from its CVSS v3 vector, else ``database_specific.severity``, else UNKNOWN."""
    for sev in record.get("severity") or []:
        if str(sev.get("type", "")).startswith("CVSS_V3"):
            try:
                return _rating(cvss3_score(sev["score"]))
            except (KeyError, ValueError):
                pass
    named = str((record.get("database_specific") or {}).get("severity", "")).upper()
    named = {"MODERATE": "MEDIUM"}.get(named, named)
    return named if named in SEVERITIES else "UNKNOWN"
