"""Keeping the statistics rollups equal to the sums of the raw all-accounts points: AgencyDay (every
location summed per day, platform and metric) and LocationMonth (each location summed per calendar month,
platform and metric).

The sync's writes move them by their differences, in the same transaction as the points: a rerun that changes
no point changes nothing here, a kill loses both or neither. LocationMonth's rows are one location's, so a
write adds to them in place (an upsert that adds, so no update is lost; rows touched in key order, so two
transactions never wait on each other in a circle). AgencyDay's rows are every location's: a write appends
its moves to AgencyDayChange instead, since adding in place made every location's statistics write wait for
the others' row locks on PostgreSQL (holding a pooled connection meanwhile). `agency_days_fold` moves the
appended rows into AgencyDay, one folder at a time (soon after writes, at a unit's end, every minute), and
`agency_days_read` answers AgencyDay plus what is still to fold, in one statement: exact at any moment.

A location deleted takes its points out the same way (integrations/signals: `pre_delete`); its LocationMonth
rows go with it (CASCADE). `agency_days_rebuild` and `location_months_rebuild` recompute from the raw points:
the migrations' backfills and `manage.py rollup_rebuild`, for anything that deletes points another way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from operator import itemgetter

from django.db import DatabaseError, connection, transaction

from integrations.bulk import Write, statements_run
from integrations.models import StatisticsPoint

log = logging.getLogger(__name__)
ALL_ACCOUNTS = StatisticsPoint.ALL_ACCOUNTS
Key = tuple[str, str, date]  # (platform, metric, day)
# Plain SQL with the tables' names written out (the models' db_table): the upsert that adds is not the ORM's.
INSERT_ROW = "(%s, %s, %s, %s, %s, %s)"
ADD_ON_CONFLICT = (' ON CONFLICT ("day", "platform", "metric") DO UPDATE SET '
                   '"total" = "integrations_agencyday"."total" + EXCLUDED."total", '
                   '"reported" = "integrations_agencyday"."reported" + EXCLUDED."reported", '
                   '"points" = "integrations_agencyday"."points" + EXCLUDED."points"')
CHANGE_INSERT_HEAD = ('INSERT INTO "integrations_agencydaychange" ("day", "platform", "metric", "total", "reported", '
                      '"points") VALUES ')
FOLD_SUMS = ('SELECT "day", "platform", "metric", SUM("total"), SUM("reported"), SUM("points") FROM {source} '
             'GROUP BY "day", "platform", "metric" ORDER BY "day", "platform", "metric"')
# PostgreSQL: the rows a fold takes are those its DELETE removes, in one statement (a row appended by a
# transaction that commits meanwhile stays for the next fold; none is folded twice or lost).
FOLD_POSTGRES = (
    'WITH moved AS (DELETE FROM "integrations_agencydaychange" RETURNING "day", "platform", "metric", '  # noqa: S608
    '"total", "reported", "points") INSERT INTO "integrations_agencyday" ("day", "platform", "metric", '
    '"total", "reported", "points") ' + FOLD_SUMS.format(source="moved") + ADD_ON_CONFLICT)
FOLD_ANY = 'SELECT 1 FROM "integrations_agencydaychange" LIMIT 1'
FOLD_LOCK = 0x74616773_66646c64  # pg_try_advisory_xact_lock's key: one fold at a time, the others skip
# SQLite: one writer at a time, so the rows up to the highest id read under the write lock are all committed.
FOLD_SQLITE_LAST = 'SELECT MAX("id") FROM "integrations_agencydaychange"'
FOLD_SQLITE_MOVE = ('INSERT INTO "integrations_agencyday" ("day", "platform", "metric", "total", "reported", "points") '
                    + FOLD_SUMS.format(source='"integrations_agencydaychange" WHERE "id" <= %s') + ADD_ON_CONFLICT)
FOLD_SQLITE_DELETE = 'DELETE FROM "integrations_agencydaychange" WHERE "id" <= %s'
# What a reader adds to AgencyDay's rows: both tables in one statement, so a fold committing meanwhile is
# seen whole or not at all. A source column tells them apart (the rollup's own rows: 0).
READ_DAYS = ('SELECT 0, "platform", "metric", {day}, "total", "reported", "points" FROM "integrations_agencyday" '
             'WHERE "day" >= %s AND "day" <= %s AND "points" > 0{platform} UNION ALL '
             'SELECT 1, "platform", "metric", {day}, "total", "reported", "points" '
             'FROM "integrations_agencydaychange" WHERE "day" >= %s AND "day" <= %s{platform}')
# The day as read: on SQLite its text, which `agency_days_read` parses once per distinct day (the bare column,
# declared a date, went through Django's converter row by row: a year's 20,000 rows cost ~10 ms more).
READ_DAY = {"sqlite": 'CAST("day" AS TEXT)'}
FOLD_EVERY_SECONDS = 2.0  # after a write, a process folds again once this long has passed since it last did
LOCATION_SUMS = ('SELECT "day", "platform", "metric", SUM("value"), COUNT("value"), COUNT(*) '
                 'FROM "integrations_statisticspoint" WHERE "location_id" = %s AND "profile_id" = %s '
                 'GROUP BY "day", "platform", "metric"')
DAYS_DELETE = 'DELETE FROM "integrations_agencyday" WHERE "day" >= %s AND "day" <= %s'
CHANGES_DELETE = 'DELETE FROM "integrations_agencydaychange" WHERE "day" >= %s AND "day" <= %s'
DAYS_RECOMPUTE = ('INSERT INTO "integrations_agencyday" ("day", "platform", "metric", "total", "reported", "points") '
                  'SELECT "day", "platform", "metric", COALESCE(SUM("value"), 0), COUNT("value"), COUNT(*) '
                  'FROM "integrations_statisticspoint" WHERE "profile_id" = %s AND "day" >= %s AND "day" <= %s '
                  'GROUP BY "day", "platform", "metric"')
MONTH_INSERT_HEAD = ('INSERT INTO "integrations_locationmonth" '
                     '("location_id", "month", "platform", "metric", "total", "reported", "points") VALUES ')
MONTH_INSERT_ROW = "(%s, %s, %s, %s, %s, %s, %s)"
MONTH_ADD_ON_CONFLICT = (' ON CONFLICT ("metric", "month", "location_id", "platform") DO UPDATE SET '
                         '"total" = "integrations_locationmonth"."total" + EXCLUDED."total", '
                         '"reported" = "integrations_locationmonth"."reported" + EXCLUDED."reported", '
                         '"points" = "integrations_locationmonth"."points" + EXCLUDED."points"')
MONTHS_DELETE = 'DELETE FROM "integrations_locationmonth" WHERE "month" >= %s AND "month" <= %s'
# The month of a day, as each database writes it (SQLite keeps dates as ISO text).
MONTH_OF = {"sqlite": "strftime('%%Y-%%m-01', \"day\")", "postgresql": "date_trunc('month', \"day\")::date"}
MONTHS_RECOMPUTE = ('INSERT INTO "integrations_locationmonth" '
                    '("location_id", "month", "platform", "metric", "total", "reported", "points") '
                    'SELECT "location_id", {month}, "platform", "metric", COALESCE(SUM("value"), 0), COUNT("value"), '
                    'COUNT(*) FROM "integrations_statisticspoint" WHERE "profile_id" = %s AND "day" >= %s '
                    'AND "day" <= %s GROUP BY "location_id", {month}, "platform", "metric"')
ROWS_PER_STATEMENT = 300


def _delta(old_exists: bool, old: float | None, new_exists: bool, new: float | None) -> tuple[float, int, int]:
    return ((new or 0.0) - (old or 0.0), (new is not None) - (old is not None), int(new_exists) - int(old_exists))


def changes_prepared(changes: Iterable[tuple[Key, bool, float | None, bool, float | None]], location_pk: int
                     ) -> Write:
    """The moves of the rollups by each changed point of the location: (key, existed before, value before,
    exists after, value after). Built now, before the points' write transaction; run the answer in it (it
    answers the rows touched)."""
    deltas: dict[Key, list] = defaultdict(lambda: [0.0, 0, 0])
    months: dict[tuple[str, date, str], list] = defaultdict(lambda: [0.0, 0, 0])
    for (platform, metric, day), old_exists, old, new_exists, new in changes:
        delta = _delta(old_exists, old, new_exists, new)
        for into in (deltas[(platform, metric, day)], months[(metric, day.replace(day=1), platform)]):
            into[0] += delta[0]
            into[1] += delta[1]
            into[2] += delta[2]
    rows = [(day, platform, metric, *d) for (platform, metric, day), d in sorted(deltas.items()) if any(d)]
    month_rows = [(location_pk, month, platform, metric, *d)
                  for (metric, month, platform), d in sorted(months.items()) if any(d)]
    statements = [*_add_statements(rows),
                  *_add_statements(month_rows, head=MONTH_INSERT_HEAD, row=MONTH_INSERT_ROW, tail=MONTH_ADD_ON_CONFLICT,
                                   day_at=1)]
    return statements_run(connection, statements, len(rows) + len(month_rows))


def _add_statements(rows: list[tuple], *, head: str = CHANGE_INSERT_HEAD, row: str = INSERT_ROW, tail: str = "",
                    day_at: int = 0) -> list[tuple[str, list]]:
    """The INSERTs of the rows (by default AgencyDay's moves, appended to AgencyDayChange); with `tail` an
    upsert that adds each row's numbers. `day_at` is the index of the date in a row."""
    adapt = connection.ops.adapt_datefield_value
    statements = []
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        batch = rows[start:start + ROWS_PER_STATEMENT]
        params = [adapt(p) if i == day_at else p for values in batch for i, p in enumerate(values)]
        statements.append((head + ", ".join([row] * len(batch)) + tail, params))
    return statements


def location_remove(location_pk: int) -> int:
    """Take one location's points out of the rollup (before they are deleted with it)."""
    with connection.cursor() as cursor:
        cursor.execute(LOCATION_SUMS, [location_pk, ALL_ACCOUNTS])
        found = cursor.fetchall()
    rows = sorted((_day(day), platform, metric, -(total or 0.0), -reported, -points)
                  for day, platform, metric, total, reported, points in found)
    statements_run(connection, _add_statements(rows), len(rows))()
    return len(rows)


def location_deleting(sender, instance, **kwargs) -> None:
    """`pre_delete` of a Location (also when a queryset or a cascade deletes it)."""
    location_remove(instance.pk)


_last_fold = [float("-inf")]  # this process's last fold (time.monotonic())
_fold_lock = threading.Lock()


def agency_days_fold() -> int:
    """Move what the sync appended to AgencyDayChange into AgencyDay; answers the AgencyDay rows it moved (0
    when another process or thread is folding: that one takes them). A change row is folded once."""
    if not _fold_lock.acquire(blocking=False):
        return 0
    try:
        _last_fold[0] = time.monotonic()
        with connection.cursor() as cursor:  # nothing to fold (an idle heartbeat): no write transaction either
            cursor.execute(FOLD_ANY)
            if cursor.fetchone() is None:
                return 0
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FOLD_LOCK])
                if not cursor.fetchone()[0]:
                    return 0
                cursor.execute(FOLD_POSTGRES)
                return cursor.rowcount
            cursor.execute(FOLD_SQLITE_LAST)
            last = cursor.fetchone()[0]
            if last is None:
                return 0
            cursor.execute(FOLD_SQLITE_MOVE, [last])
            moved = cursor.rowcount
            cursor.execute(FOLD_SQLITE_DELETE, [last])
            return moved
    finally:
        _fold_lock.release()


def agency_days_fold_soon(*, now: bool = False) -> None:
    """Fold if this process has not for FOLD_EVERY_SECONDS (or `now`): after the sync's writes, so what
    readers add stays a few seconds' worth, at the cost of a transaction every few seconds, not one per
    write. Never inside the writer's transaction (the fold would hold AgencyDay's rows till its end), and a
    database too busy to fold is no failure of the write's: readers add the rows meanwhile, the next fold
    (at the latest the minutely heartbeat's) takes them."""
    if connection.in_atomic_block or not (now or time.monotonic() - _last_fold[0] >= FOLD_EVERY_SECONDS):
        return
    try:
        agency_days_fold()
    except DatabaseError:
        log.warning("agency rollup: fold put off, the database was busy", exc_info=True)


def agency_days_read(first: date, last: date, platform: str | None = None) -> Iterator[tuple]:
    """(platform, metric, day, total or None, points) of every location's summed all-accounts points for the
    days from `first` to `last` (one platform if given): AgencyDay with what is still to fold."""
    adapt = connection.ops.adapt_datefield_value
    span = [adapt(first), adapt(last)]
    only = ' AND "platform" = %s' if platform else ""
    params = [*span, platform, *span, platform] if platform else [*span, *span]
    with connection.cursor() as cursor:
        cursor.execute(READ_DAYS.format(platform=only, day=READ_DAY.get(connection.vendor, '"day"')), params)
        rows = cursor.fetchall()
    days: dict = {}  # SQLite's days come as text (READ_DAY): parsed once per distinct day

    def day_of(stored) -> date:
        day = days.get(stored)
        if day is None:
            day = days[stored] = _day(stored)
        return day

    if not any(map(itemgetter(0), rows)):  # nothing to fold: the usual case, read as it is
        for _, platform_, metric, stored, total, reported, points in rows:
            yield platform_, metric, day_of(stored), (total if reported > 0 else None), points
        return
    summed: dict[tuple, list] = {}
    for _, platform_, metric, stored, total, reported, points in rows:
        day = day_of(stored)
        into = summed.setdefault((platform_, metric, day), [0.0, 0, 0])
        into[0] += total
        into[1] += reported
        into[2] += points
    for (platform_, metric, day), (total, reported, points) in summed.items():
        if points > 0:
            yield platform_, metric, day, (total if reported > 0 else None), points


def agency_days_rebuild(first: date | None = None, last: date | None = None) -> int:
    """Recompute the rollup of the days from `first` to `last` (every day when not given) from the raw
    points; answers the rows it holds for them."""
    adapt = connection.ops.adapt_datefield_value
    span = [adapt(first or date.min), adapt(last or date.max)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CHANGES_DELETE, span)
        cursor.execute(DAYS_DELETE, span)
        cursor.execute(DAYS_RECOMPUTE, [ALL_ACCOUNTS, *span])
        return cursor.rowcount


def location_months_rebuild(first: date | None = None, last: date | None = None) -> int:
    """Recompute every location's months that hold the days from `first` to `last` (every month when not
    given; whole months, whatever the days) from the raw points; answers the rows it holds for them."""
    adapt = connection.ops.adapt_datefield_value
    first_month = (first or date.min).replace(day=1)
    last_day = _month_end(last or date.max)
    sql = MONTHS_RECOMPUTE.format(month=MONTH_OF[connection.vendor])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(MONTHS_DELETE, [adapt(first_month), adapt(last_day)])
        cursor.execute(sql, [ALL_ACCOUNTS, adapt(first_month), adapt(last_day)])
        return cursor.rowcount


def rollups_rebuild(first: date | None = None, last: date | None = None) -> int:
    """Both rollups recomputed for the days from `first` to `last` (every day when not given)."""
    return agency_days_rebuild(first, last) + location_months_rebuild(first, last)


def _month_end(day: date) -> date:
    if day.month == 12:
        return day.replace(day=31)
    return day.replace(month=day.month + 1, day=1) - timedelta(days=1)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
