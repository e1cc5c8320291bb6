"""A report's period in the report's own days, and when a scheduled report is next due.

Periods end yesterday (whole days only: today is still moving); "last month" and "last quarter" are calendar
ones. The comparison is the period of the same length just before (`StatsQuery.previous`), so day n is
compared with day n. Send times are local wall-clock times turned into UTC for each occurrence, so a
08:00 report stays at 08:00 local across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard.selectors.statistics_range import StatsQuery


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(timezone_name: str, now: datetime) -> date:
    return now.astimezone(zone(timezone_name)).date()


def _quarter_start(day: date) -> date:
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def period_range(period: str, today: date, custom_start: date | None = None,
                 custom_end: date | None = None) -> tuple[date, date]:
    yesterday = today - timedelta(days=1)
    if period == "7d":
        return today - timedelta(days=7), yesterday
    if period == "30d":
        return today - timedelta(days=30), yesterday
    if period == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if period == "last_quarter":
        end = _quarter_start(today) - timedelta(days=1)
        return _quarter_start(end), end
    if period == "custom" and custom_start and custom_end and custom_start <= custom_end:
        return custom_start, custom_end
    raise ValueError(f"unknown period {period!r} or an incomplete custom range")


def period_query(start: date, end: date) -> StatsQuery:
    return StatsQuery(start=start, end=end, preset="custom", compare=True)


def next_send_at(*, cadence: str, weekday: int, hour: int, timezone_name: str, after: datetime) -> datetime | None:
    """The first send time strictly after `after` (UTC): weekly on `weekday`, monthly on the 1st, at `hour`
    local. A local hour that a spring-forward skips is read the way zoneinfo reads it (an hour later)."""
    if cadence not in ("weekly", "monthly"):
        return None
    tz = zone(timezone_name)
    first = after.astimezone(tz).date()
    for n in range(0, 40):  # a month at most, and a day either side
        day = first + timedelta(days=n)
        if (cadence == "weekly" and day.weekday() != weekday) or (cadence == "monthly" and day.day != 1):
            continue
        at = datetime(day.year, day.month, day.day, hour, tzinfo=tz).astimezone(UTC)
        if at > after:
            return at
    return None  # unreachable for valid input
