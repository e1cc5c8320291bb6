"""HighLevel call figures grouped in the database: counts (calls, 429s, retries, errors) and a latency histogram.

Latency percentiles come from a histogram the database builds (GROUP BY a bucket of latency_ms: exact
below 100 ms, then 10 ms, 100 ms and 1 s wide), so a percentile is the bucket it falls in: within 10%,
the same on SQLite and PostgreSQL, and never a fetch of every row. Histograms of several groups (or of
rolled-up days, integrations/retention/rollup.py) merge exactly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, When

Histogram = Counter  # bucket (ms) -> calls

COUNTS = {
    "calls": Q(),
    "throttled": Q(status=429),
    "retries": Q(attempt__gt=1),
    "errors": Q(status__isnull=True) | Q(status__gte=500),
}


def latency_bucket() -> Case:
    return Case(
        When(latency_ms__lt=100, then=F("latency_ms")),
        When(latency_ms__lt=1000, then=F("latency_ms") / 10 * 10),
        When(latency_ms__lt=10000, then=F("latency_ms") / 100 * 100),
        default=F("latency_ms") / 1000 * 1000,
        output_field=IntegerField(),
    )


def percentile(histogram: Histogram, p: float) -> int | None:
    """The bucket holding the p-th percentile (nearest rank); None without calls."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket
    return None


def grouped(calls: Any, *keys: str) -> dict[tuple, dict[str, Any]]:
    """{(key values...): {"calls", "throttled", "retries", "errors", "histogram", "p50", "p95"}} in ONE query:
    grouped by `keys` and the latency bucket, so the counts are sums over the buckets."""
    rows = calls.annotate(bucket=latency_bucket()).values(*keys, "bucket").annotate(
        **{name: Count("id", filter=condition) for name, condition in COUNTS.items()}).order_by()
    found: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        group = found.setdefault(tuple(row[k] for k in keys), {**dict.fromkeys(COUNTS, 0), "histogram": Counter()})
        for name in COUNTS:
            group[name] += row[name]
        group["histogram"][row["bucket"]] += row["calls"]
    for group in found.values():
        group.update(p50=percentile(group["histogram"], 50), p95=percentile(group["histogram"], 95))
    return found


def merge(parts: Iterable[Histogram]) -> Histogram:
    total: Histogram = Counter()
    for part in parts:
        total.update(part)
    return total


def roll_up(stats: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several groups' figures as one (a connection's locations, a day's connections, or everything)."""
    rows = list(stats)
    histogram = merge(r.get("histogram", Counter()) for r in rows)
    out: dict[str, Any] = {k: sum(r.get(k, 0) for r in rows) for k in COUNTS}
    out.update(p50=percentile(histogram, 50), p95=percentile(histogram, 95))
    return out
