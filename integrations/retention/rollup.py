"""Daily rollups of HighLevel calls (ApiCallDay), so the Operations charts outlive the ApiCall window.

A day is rolled up once it is over (UTC days: TIME_ZONE is UTC) and again the next night, for rows a
buffered recorder wrote late; rolling a day up replaces its rows, so doing it twice changes nothing. The
prune deletes ApiCall rows by whole days (`api_calls_kept_from`) and rolls each day up before its rows go,
so a day's raw rows are either all there or all gone: a rollup is never made from half a day. (The one
exception: a database pruned by an older Tagscope, whose prune cut its oldest day anywhere.)
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction

from integrations.callstats import COUNTS, grouped, roll_up
from integrations.models import ApiCall, ApiCallDay


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def api_calls_kept_from(*, now: datetime, days: int) -> date:
    """The first UTC day whose ApiCall rows the prune keeps (whole days: `days` complete days and today)."""
    return now.astimezone(UTC).date() - timedelta(days=days)


def api_call_day_roll_up(*, day: date) -> int:
    """(Re)write the rollup rows of one day from its raw rows; answers how many calls it holds."""
    start, end = day_bounds(day)
    groups = grouped(ApiCall.objects.filter(at__gte=start, at__lt=end), "connection_id")
    rows = [ApiCallDay(day=day, connection_id=key[0], histogram={str(b): n for b, n in g["histogram"].items()},
                       **{name: g[name] for name in COUNTS}) for key, g in groups.items()]
    with transaction.atomic():
        ApiCallDay.objects.filter(day=day).delete()
        ApiCallDay.objects.bulk_create(rows)
    return sum(row.calls for row in rows)


def api_calls_roll_up(*, now: datetime) -> int:
    """Roll up yesterday, and every earlier day that still has raw rows and no rollup yet (the prune only
    deletes whole days, so such a day is complete); answers the number of days rolled up."""
    yesterday = now.astimezone(UTC).date() - timedelta(days=1)
    first_raw = ApiCall.objects.order_by("at").values_list("at", flat=True).first()
    if first_raw is None:
        return 0
    start = first_raw.astimezone(UTC).date()
    done = set(ApiCallDay.objects.filter(day__gte=start).values_list("day", flat=True).distinct())
    days = [start + timedelta(days=n) for n in range((yesterday - start).days + 1)]
    todo = [d for d in days if d not in done or d == yesterday]
    for day in todo:
        api_call_day_roll_up(day=day)
    return len(todo)


def rolled_up_days(*, days: list[date]) -> dict[date, dict[str, Any]]:
    """{day: {"calls", "throttled", "retries", "errors", "p50", "p95"}} for the days of `days` that have a
    rollup (one query); the others are left out (read them from ApiCall)."""
    by_day: dict[date, list[dict[str, Any]]] = {}
    for row in ApiCallDay.objects.filter(day__in=days).values("day", "histogram", *COUNTS):
        histogram = Counter({int(bucket): n for bucket, n in row["histogram"].items()})
        by_day.setdefault(row["day"], []).append({**{k: row[k] for k in COUNTS}, "histogram": histogram})
    return {day: roll_up(parts) for day, parts in by_day.items()}



