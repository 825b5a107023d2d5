"""Compose value syntax -> Kubernetes values: durations, health checks, environments, ports.

Compose accepts several spellings for the same setting (``"1m30s"``, ``[CMD-SHELL, ...]``, a list
of ``K=V`` or a mapping, short and long port forms). These small converters turn each into the one
form a Kubernetes manifest needs, so :mod:`helpers.ci.k8s` reads as a mapping of keys.
"""

from __future__ import annotations

import re
from typing import Any

__all__: list[str] = []  # used by helpers.ci.k8s only


def _seconds(value: Any, default: int) -> int:
    """'2s', '1m30s', '500ms' -> whole seconds (at least 1)."""
    if value is None:
        return default
    total = 0.0
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)?", str(value)):
        total += float(num) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "": 1}[unit]
    return max(1, round(total))


def probe(hc: dict[str, Any]) -> dict[str, Any]:
    """A compose ``healthcheck`` -> a Kubernetes exec probe (command, period, timeout, failure threshold)."""
    test = hc.get("test")
    if isinstance(test, str):
        cmd = ["sh", "-c", test]
    elif test and test[0] == "CMD-SHELL":
        cmd = ["sh", "-c", " ".join(test[1:])]
    else:
        cmd = list(test[1:] if test and test[0] == "CMD" else test or [])
    return {
        "exec": {"command": cmd},
        "periodSeconds": _seconds(hc.get("interval"), 30),
        "timeoutSeconds": _seconds(hc.get("timeout"), 30),
        "failureThreshold": int(hc.get("retries", 3)),
    }


def env_dict(value: Any) -> dict[str, str]:
    """A compose ``environment`` or ``labels`` value (list of ``K=V`` or mapping) -> a dict of strings."""
    if isinstance(value, list):
        return dict((item.split("=", 1) + [""])[:2] for item in value)
    return {k: "" if v is None else str(v) for k, v in (value or {}).items()}


def port_pair(spec: Any) -> tuple[int, int]:
    """A compose port (``"8080:8000"``, ``"8000/tcp"`` or the long form) -> (published or target, target)."""
    if isinstance(spec, dict):
        return int(spec.get("published", spec["target"])), int(spec["target"])
    parts = str(spec).split("/")[0].split(":")
    target = int(parts[-1])
    return (int(parts[-2]) if len(parts) >= 2 and parts[-2] else target), target
