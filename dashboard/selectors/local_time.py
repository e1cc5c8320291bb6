"""A timestamp's local weekday and hour in a time zone, computed by the database without per-row Python.

Django's ExtractHour(tzinfo=...) is native on PostgreSQL (AT TIME ZONE) but, on SQLite, calls a Python function
for every row (about 15 µs each: 300 ms for the 20,000 posts of `bench/performance.py`). On SQLite these
expressions shift the stored UTC text by the zone's offset with SQLite's own strftime, the offset picked by a
CASE over the zone's offset changes (DST) within the window, which Python finds once per query.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Func, IntegerField
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

# Offsets are looked for day by day within these years only: a nonsense range (year 1 to 9999) must not walk
# millions of days, and no post exists outside them (a row beyond gets the nearest edge's offset).
SCAN_FROM, SCAN_TO = datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def offset_segments(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime | None, int]]:
    """[(from instant or None for "before everything", UTC offset in minutes)] in force over [lo, hi), found
    quarter hour by quarter hour within days whose offsets differ (zones change offset a few times a year)."""
    def minutes(at: datetime) -> int:
        return int(at.astimezone(zone).utcoffset().total_seconds() // 60)

    lo, hi = min(max(lo, SCAN_FROM), SCAN_TO), max(min(hi, SCAN_TO), SCAN_FROM)

    segments: list[tuple[datetime | None, int]] = [(None, minutes(lo))]
    day = lo
    while day < hi:
        following = min(day + timedelta(days=1), hi)
        if minutes(following) != minutes(day):
            at = day
            while at < following:  # the first whole quarter hour with the new offset
                at += timedelta(minutes=15)
                if minutes(at) != segments[-1][1]:
                    segments.append((at, minutes(at)))
                    break
        day = following
    return segments


class _LocalPart(Func):
    """strftime(part, column, '<offset> minutes') on SQLite; the native Extract elsewhere."""

    output_field = IntegerField()
    part = ""
    native = ExtractHour

    def __init__(self, column: str, *, zone: ZoneInfo, lo: datetime, hi: datetime):
        super().__init__(column)
        self.zone, self.segments = zone, offset_segments(zone, lo, hi)

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if len(self.segments) == 1:
            shift, shift_params = "%s", [f"{self.segments[0][1]:+d} minutes"]
        else:  # newest change first: the first instant the row is at or after wins
            whens = " ".join(f"WHEN {column} >= %s THEN %s" for _ in self.segments[1:])
            shift = f"CASE {whens} ELSE %s END"
            shift_params = []
            for at, offset in reversed(self.segments[1:]):
                shift_params += [*params, connection.ops.adapt_datetimefield_value(at), f"{offset:+d} minutes"]
            shift_params.append(f"{self.segments[0][1]:+d} minutes")
        return self.sql(column, shift), [*params, *shift_params]

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.native(self.source_expressions[0], tzinfo=self.zone))


class LocalHour(_LocalPart):
    def sql(self, column: str, shift: str) -> str:
        return f"CAST(strftime('%%H', {column}, {shift}) AS INTEGER)"


class LocalIsoWeekday(_LocalPart):
    native = ExtractIsoWeekDay

    def sql(self, column: str, shift: str) -> str:  # %w: 0 is Sunday; ISO: 1 Monday .. 7 Sunday
        return f"((CAST(strftime('%%w', {column}, {shift}) AS INTEGER) + 6) %% 7 + 1)"
