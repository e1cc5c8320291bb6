"""The statistics metrics Tagscope mirrors and charts, in the order the pages show them, and the one way a
figure is compared with the previous period. Used by the statistics pages and API, the alert rules and the
weekly digest."""

from __future__ import annotations

METRICS = ("impressions", "reach", "engagement", "likes", "comments", "shares", "followers", "posts")


def percent_change(total: float | None, previous: float | None) -> float | None:
    """The change against the previous period in percent, to one decimal; None when there is nothing to
    compare (no figure now, or none or zero before)."""
    if total is None or not previous:
        return None
    return round((total - previous) / previous * 100, 1)
