"""HighLevel call metrics for the operations page, in a fixed number of queries whatever the row count.

The counting and the latency histogram live in integrations/callstats.py; days whose raw calls were rolled
up (integrations/retention/rollup.py) are read from the rollup, so the charts outlive the ApiCall window.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from integrations.callstats import COUNTS, grouped, percentile, roll_up
from integrations.models import ApiCall
from integrations.retention.rollup import rolled_up_days

__all__ = ["call_stats", "daily_calls", "day_index", "day_start", "percentile", "roll_up"]


def call_stats(*, since: datetime) -> dict[tuple, dict[str, Any]]:
    """{(connection_id, resource_id): {"calls", "throttled", "retries", "errors", "p50", "p95"}} since `since`."""
    return grouped(ApiCall.objects.filter(at__gte=since), "connection_id", "resource_id")


def day_index(field: str, days: list[date]) -> Case:
    """The index of the day a row's `field` falls in (None before the first): plain comparisons, so no
    per-row date function runs (SQLite evaluates TruncDate in Python, row by row)."""
    tz = timezone.get_current_timezone()
    ends = [datetime.combine(d + timedelta(days=1), time.min, tzinfo=tz) for d in days]
    return Case(*[When(**{f"{field}__lt": end}, then=Value(n)) for n, end in enumerate(ends)],
                default=Value(None), output_field=IntegerField())


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def daily_calls(*, days: list[date]) -> dict[date, dict[str, Any]]:
    """{day: {"calls", "throttled", "retries", "errors", "p95", ...}} for each of `days`: the rolled-up days
    from their rollup, the others (today, and days the nightly prune has not reached) from ApiCall; two
    queries."""
    found = rolled_up_days(days=days)
    raw = [d for d in days if d not in found]
    if raw:
        calls = ApiCall.objects.filter(at__gte=day_start(raw[0])).annotate(day=day_index("at", days))
        by_index = grouped(calls, "day")
        found.update({day: by_index[(n,)] for n, day in enumerate(days) if day in raw and (n,) in by_index})
    empty = {**dict.fromkeys(COUNTS, 0), "p50": None, "p95": None}
    return {day: found.get(day, empty) for day in days}
