"""Writing statistics answers to the mirror: daily points per (location, scope, platform, metric, day), and
the audience demographics of an answer's last day. The callers have proven the days first
(Statistics.answers_asked_days, or the default window's weekday names): nothing here guesses a date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from integrations.bulk import rows_insert_prepared, rows_update_prepared
from integrations.data_versions import STATISTICS, versions_move, written
from integrations.highlevel.types import Statistics
from integrations.models import Demographics, StatisticsPoint
from integrations.sync.agency_rollup import agency_days_fold_soon, changes_prepared
from integrations.sync.runs import RunContext

ALL_PLATFORMS = ""
POINT_FIELDS = ("location", "profile_id", "platform", "metric", "day", "value", "fetched_at")


def answer_store(ctx: RunContext, scope: str, answer: Statistics, days: list[date]) -> None:
    """Store an answer's per-day series under `days` (its proven days, one per `dayRange` label)."""
    ctx.trace(answer.trace_id)
    if not days:
        return
    if len(days) != len(answer.day_range):
        raise ValueError("the days to store must be the answer's days")
    upsert_points(ctx, scope, days, answer_series(answer))
    with transaction.atomic():
        ctx.wrote(written(_store_demographics(ctx, scope, answer, days[0], days[-1], timezone.now()),
                          ctx.location.pk, STATISTICS))


def answer_series(answer: Statistics):
    """(platform, metric, series) of every per-day number the answer holds."""
    for platform in answer.platforms:
        for metric in answer.metrics:
            series = answer.daily(platform, metric)
            if series is not None:
                yield platform, metric, series
    for metric, series in answer.performance.items():
        yield ALL_PLATFORMS, metric, series
    if answer.posts_by_platform:
        days = zip(*answer.posts_by_platform.values(), strict=False)
        yield ALL_PLATFORMS, "posts", tuple(None if any(v is None for v in day) else sum(day) for day in days)


def upsert_points(ctx: RunContext, scope: str, days: list[date], series_list) -> None:
    """Write each (platform, metric, series aligned with days) that differs from what is stored."""
    upsert_values(ctx, scope, {(platform, metric, day): value for platform, metric, series in series_list
                               for day, value in zip(days, series, strict=False)})


def upsert_values(ctx: RunContext, scope: str, values: dict[tuple[str, str, date], float | None]) -> None:
    """Write each {(platform, metric, day): value} that differs from what is stored: one read of the days'
    span, then one short transaction (a savepoint, called inside one)."""
    points_write(ctx, [points_compare(ctx, scope, values)])


@dataclass
class PointChanges:
    """What one scope's answers change among the stored points (points_compare), to be written by
    points_write: the rows to create (POINT_FIELDS), the (id, value, fetched_at) to update, and the moves of
    the agency rollup (key, existed, old value, exists, new value)."""

    scope: str
    creates: list[tuple] = field(default_factory=list)
    updates: list[tuple] = field(default_factory=list)
    changes: list[tuple] = field(default_factory=list)


def points_compare(ctx: RunContext, scope: str, values: dict[tuple[str, str, date], float | None]) -> PointChanges:
    """Compare {(platform, metric, day): value} with what is stored, reading outside any write transaction: on
    SQLite the one write lock is the agency sync's bottleneck (held nearly all of its wall time), and a read
    with its comparing held it for half of a statistics write. Safe to write later: only the holder of the
    location's statistics lease writes its points."""
    compared = PointChanges(scope)
    if not values:
        return compared
    now = timezone.now()
    location_id = ctx.location.pk
    days = [day for _, _, day in values]
    existing = _stored_points(location_id, scope, min(days), max(days))
    unchanged = 0
    for point, value in values.items():
        value = None if value is None else float(value)
        found = existing.get(point)
        if found is None:
            platform, metric, day = point
            compared.creates.append((location_id, scope, platform, metric, day, value, now))
            compared.changes.append((point, False, None, True, value))
        elif found[1] != value:
            compared.updates.append((found[0], value, now))
            compared.changes.append((point, True, found[1], True, value))
        else:
            unchanged += 1
    ctx.count("unchanged", unchanged)
    return compared


def points_write(ctx: RunContext, scopes: list[PointChanges]) -> None:
    """Write what points_compare found for one or more scopes of the location, in one short transaction."""
    scopes = [one for one in scopes if one.creates or one.updates]
    if not scopes:
        return
    location_id = ctx.location.pk
    writes = []  # prepared before the transaction, which runs them only
    for one in scopes:
        writes += [rows_insert_prepared(StatisticsPoint, POINT_FIELDS, one.creates),
                   rows_update_prepared(StatisticsPoint, ("value", "fetched_at"), one.updates)]
        if one.scope == StatisticsPoint.ALL_ACCOUNTS:
            writes.append(changes_prepared(one.changes, location_id))
    with transaction.atomic():
        for write in writes:
            write()
        versions_move(location_id, STATISTICS)
    if any(one.scope == StatisticsPoint.ALL_ACCOUNTS for one in scopes):
        agency_days_fold_soon()
    created, updated = sum(len(one.creates) for one in scopes), sum(len(one.updates) for one in scopes)
    ctx.count("created", created)
    ctx.count("updated", updated)
    ctx.wrote(created + updated)


# Read once per HighLevel answer: plain SQL spares the ORM's compiling (the covering index answers it).
POINTS_SQL = ('SELECT "id", "platform", "metric", "day", "value" FROM "integrations_statisticspoint" '
              'WHERE "location_id" = %s AND "profile_id" = %s AND "day" >= %s AND "day" <= %s')


def _stored_points(location_id: int, scope: str, first: date, last: date) -> dict[tuple[str, str, date], tuple]:
    """{(platform, metric, day): (id, value)} of what is stored for the scope's days."""
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.execute(POINTS_SQL, [location_id, scope, adapt(first), adapt(last)])
        rows = cursor.fetchall()
    # SQLite answers a day as its text.
    return {(platform, metric, day if isinstance(day, date) else date.fromisoformat(day)): (pk, value)
            for pk, platform, metric, day, value in rows}


def _store_demographics(ctx: RunContext, scope: str, answer: Statistics, start: date, end: date,
                        now: datetime) -> int:
    if not answer.demographics:
        return 0
    # Keyed by the day it describes: a later refresh asking a shorter window must not add a row.
    row = Demographics.objects.filter(location=ctx.location, profile_id=scope, range_end=end).first()
    if row is None:
        Demographics.objects.create(location=ctx.location, profile_id=scope, range_start=start, range_end=end,
                                    data=answer.demographics, fetched_at=now)
        return 1
    if row.data != answer.demographics:
        Demographics.objects.filter(pk=row.pk).update(data=answer.demographics, range_start=start, fetched_at=now)
        return 1
    return 0
