"""HighLevel call metrics for the operations page, in a fixed number of queries whatever the row count.

Latency percentiles come from a histogram the database builds (GROUP BY a bucket of latency_ms: exact
below 100 ms, then 10 ms, 100 ms and 1 s wide), so a percentile is the bucket it falls in: within 10%,
the same on SQLite and PostgreSQL, and never a fetch of every row.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, When
from django.db.models.functions import TruncDate

from integrations.models import ApiCall

Histogram = Counter  # bucket (ms) -> calls


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


def histograms(calls: Any, *keys: str) -> dict[tuple, Histogram]:
    """{(key values...): Histogram} of `calls`, grouped by `keys` (field names or annotations)."""
    rows = calls.annotate(bucket=latency_bucket()).values(*keys, "bucket").annotate(n=Count("id")).order_by()
    found: dict[tuple, Histogram] = defaultdict(Counter)
    for row in rows:
        found[tuple(row[k] for k in keys)][row["bucket"]] += row["n"]
    return found


def merge(parts: Iterable[Histogram]) -> Histogram:
    total: Histogram = Counter()
    for part in parts:
        total.update(part)
    return total


def call_stats(*, since: datetime) -> dict[tuple[int | None, str], dict[str, Any]]:
    """{(connection_id, resource_id): {"calls", "throttled", "retries", "errors", "p50", "p95"}} since `since`."""
    calls = ApiCall.objects.filter(at__gte=since)
    counts = calls.values("connection_id", "resource_id").annotate(
        calls=Count("id"), throttled=Count("id", filter=Q(status=429)), retries=Count("id", filter=Q(attempt__gt=1)),
        errors=Count("id", filter=Q(status__isnull=True) | Q(status__gte=500)),
    ).order_by()
    stats = {(r["connection_id"], r["resource_id"]): {k: r[k] for k in ("calls", "throttled", "retries", "errors")}
             for r in counts}
    for key, histogram in histograms(calls, "connection_id", "resource_id").items():
        stats.setdefault(key, {}).update(histogram=histogram, p50=percentile(histogram, 50),
                                         p95=percentile(histogram, 95))
    return stats


def roll_up(stats: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several rows of call_stats as one (a connection's locations, or everything)."""
    rows = list(stats)
    histogram = merge(r.get("histogram", Counter()) for r in rows)
    out: dict[str, Any] = {k: sum(r.get(k, 0) for r in rows) for k in ("calls", "throttled", "retries", "errors")}
    out.update(p50=percentile(histogram, 50), p95=percentile(histogram, 95))
    return out


def daily_calls(*, since: datetime) -> dict[Any, dict[str, Any]]:
    """{date: {"calls", "throttled", "retries", "p95"}} per UTC day since `since` (two queries)."""
    calls = ApiCall.objects.filter(at__gte=since).annotate(day=TruncDate("at"))
    days: dict[Any, dict[str, Any]] = {}
    for row in calls.values("day").annotate(calls=Count("id"), throttled=Count("id", filter=Q(status=429)),
                                            retries=Count("id", filter=Q(attempt__gt=1))).order_by():
        days[row["day"]] = {k: row[k] for k in ("calls", "throttled", "retries")}
    for (day,), histogram in histograms(calls, "day").items():
        days.setdefault(day, {})["p95"] = percentile(histogram, 95)
    return days
