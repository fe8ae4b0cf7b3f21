"""Small statistics used by the audit figures."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear-interpolated percentile of ``values`` (PostgreSQL's ``percentile_cont``).

    ``values`` need not be sorted. None for an empty sequence.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def hours(seconds: float) -> float:
    return round(seconds / 3600, 2)
