"""Percentiles by nearest rank: every reported p50/p95/p99 is a latency that was really measured,
not an interpolation between two of them."""

from __future__ import annotations

import math


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list; None for an empty one."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]
