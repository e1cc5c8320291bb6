"""Keeping AgencyDay (every location's all-accounts statistics summed per day, platform and metric) equal to
the sum of the raw points.

The sync's writes move it by their differences, in the same transaction as the points: a rerun that changes
no point changes nothing here, a kill loses both or neither, and workers writing side by side add to the same
rows without reading them first (an upsert that adds, so no update is lost). Rows are touched in key order,
so two transactions never wait on each other in a circle. A location deleted takes its points out the same
way (integrations/signals: `pre_delete`). `agency_days_rebuild` recomputes days from the raw points: the
migration's backfill and `manage.py rollup_rebuild`, for anything that deletes points another way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction

from integrations.models import StatisticsPoint

ALL_ACCOUNTS = StatisticsPoint.ALL_ACCOUNTS
Key = tuple[str, str, date]  # (platform, metric, day)
# Plain SQL with the tables' names written out (the models' db_table): the upsert that adds is not the ORM's.
INSERT_HEAD = ('INSERT INTO "integrations_agencyday" ("day", "platform", "metric", "total", "reported", "points") '
               'VALUES ')
INSERT_ROW = "(%s, %s, %s, %s, %s, %s)"
ADD_ON_CONFLICT = (' ON CONFLICT ("day", "platform", "metric") DO UPDATE SET '
                   '"total" = "integrations_agencyday"."total" + EXCLUDED."total", '
                   '"reported" = "integrations_agencyday"."reported" + EXCLUDED."reported", '
                   '"points" = "integrations_agencyday"."points" + EXCLUDED."points"')
LOCATION_SUMS = ('SELECT "day", "platform", "metric", SUM("value"), COUNT("value"), COUNT(*) '
                 'FROM "integrations_statisticspoint" WHERE "location_id" = %s AND "profile_id" = %s '
                 'GROUP BY "day", "platform", "metric"')
DAYS_DELETE = 'DELETE FROM "integrations_agencyday" WHERE "day" >= %s AND "day" <= %s'
DAYS_RECOMPUTE = ('INSERT INTO "integrations_agencyday" ("day", "platform", "metric", "total", "reported", "points") '
                  'SELECT "day", "platform", "metric", COALESCE(SUM("value"), 0), COUNT("value"), COUNT(*) '
                  'FROM "integrations_statisticspoint" WHERE "profile_id" = %s AND "day" >= %s AND "day" <= %s '
                  'GROUP BY "day", "platform", "metric"')
ROWS_PER_STATEMENT = 300


def _delta(old_exists: bool, old: float | None, new_exists: bool, new: float | None) -> tuple[float, int, int]:
    return ((new or 0.0) - (old or 0.0), (new is not None) - (old is not None), int(new_exists) - int(old_exists))


def changes_apply(changes: Iterable[tuple[Key, bool, float | None, bool, float | None]]) -> int:
    """Move the rollup by each changed point: (key, existed before, value before, exists after, value after).
    Answers the rows touched. Call it in the transaction that writes the points."""
    deltas: dict[Key, list] = defaultdict(lambda: [0.0, 0, 0])
    for key, old_exists, old, new_exists, new in changes:
        total, reported, points = _delta(old_exists, old, new_exists, new)
        into = deltas[key]
        into[0] += total
        into[1] += reported
        into[2] += points
    rows = [(day, platform, metric, *d) for (platform, metric, day), d in sorted(deltas.items()) if any(d)]
    _add(rows)
    return len(rows)


def _add(rows: list[tuple]) -> None:
    if not rows:
        return
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            batch = rows[start:start + ROWS_PER_STATEMENT]
            params = [p for day, *rest in batch for p in (adapt(day), *rest)]
            cursor.execute(INSERT_HEAD + ", ".join([INSERT_ROW] * len(batch)) + ADD_ON_CONFLICT, params)


def location_remove(location_pk: int) -> int:
    """Take one location's points out of the rollup (before they are deleted with it)."""
    with connection.cursor() as cursor:
        cursor.execute(LOCATION_SUMS, [location_pk, ALL_ACCOUNTS])
        found = cursor.fetchall()
    rows = sorted((_day(day), platform, metric, -(total or 0.0), -reported, -points)
                  for day, platform, metric, total, reported, points in found)
    _add([(day, *rest) for day, *rest in rows])
    return len(rows)


def location_deleting(sender, instance, **kwargs) -> None:
    """`pre_delete` of a Location (also when a queryset or a cascade deletes it)."""
    location_remove(instance.pk)


def agency_days_rebuild(first: date | None = None, last: date | None = None) -> int:
    """Recompute the rollup of the days from `first` to `last` (every day when not given) from the raw
    points; answers the rows it holds for them."""
    adapt = connection.ops.adapt_datefield_value
    span = [adapt(first or date.min), adapt(last or date.max)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(DAYS_DELETE, span)
        cursor.execute(DAYS_RECOMPUTE, [ALL_ACCOUNTS, *span])
        return cursor.rowcount


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
