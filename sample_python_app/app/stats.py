"""A small computation worth an endpoint: inventory statistics."""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from .db import Item


def inventory_stats(items: Iterable[Item]) -> dict[str, float | int]:
    items = list(items)
    prices = [i.price for i in items]
    return {
        "count": len(items),
        "units": sum(i.quantity for i in items),
        "stock_value": round(sum(i.price * i.quantity for i in items), 2),
        "mean_price": round(statistics.fmean(prices), 2) if prices else 0.0,
        "median_price": round(statistics.median(prices), 2) if prices else 0.0,
    }
