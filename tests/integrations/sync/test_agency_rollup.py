"""The rollups (AgencyDay, LocationMonth) equal the raw points summed, after the sync's writes, overwrites,
gaps, a rerun, a location's deletion and a rebuild; the agency statistics and rankings read them at a
constant query count, with the same figures as the raw points give."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from dashboard.selectors.statistics import locations_ranked, statistics_for
from dashboard.selectors.statistics_range import StatsQuery
from integrations.models import AgencyDay, AgencyDayChange, Location, LocationMonth, StatisticsPoint
from integrations.sync.agency_rollup import (
    agency_days_fold,
    agency_days_read,
    agency_days_rebuild,
    location_months_rebuild,
)
from integrations.sync.runs import RunContext
from integrations.sync.statistics_store import upsert_values
from tests.dashboard.browsing_factories import location_make

pytestmark = pytest.mark.django_db
END = date(2026, 3, 31)


def recomputed() -> dict[tuple, tuple]:
    """What the rollup must hold: the all-accounts points summed per day, platform and metric."""
    rows = (StatisticsPoint.objects.filter(profile_id="").values_list("day", "platform", "metric")
            .annotate(total=Sum("value"), points=Count("id")).order_by())
    return {(day, platform, metric): (total, points) for day, platform, metric, total, points in rows}


def rollup() -> dict[tuple, tuple]:
    """What the agency pages read: AgencyDay with the changes still to fold."""
    return {(day, platform, metric): (value, points)
            for platform, metric, day, value, points in agency_days_read(date.min, date.max)}


def folded() -> dict[tuple, tuple]:
    """AgencyDay's own rows."""
    return {(r.day, r.platform, r.metric): (r.value, r.points) for r in AgencyDay.objects.filter(points__gt=0)}


def months_recomputed() -> dict[tuple, tuple]:
    """What LocationMonth must hold: each location's all-accounts points summed per month, platform, metric."""
    found: dict[tuple, list] = {}
    for point in StatisticsPoint.objects.filter(profile_id=""):
        into = found.setdefault((point.location_id, point.day.replace(day=1), point.platform, point.metric),
                                [None, 0])
        if point.value is not None:
            into[0] = (into[0] or 0.0) + point.value
        into[1] += 1
    return {key: tuple(v) for key, v in found.items()}


def months() -> dict[tuple, tuple]:
    return {(r.location_id, r.month, r.platform, r.metric): (r.total if r.reported else None, r.points)
            for r in LocationMonth.objects.filter(points__gt=0)}


def rollups_equal_raw() -> bool:
    return rollup() == recomputed() and months() == months_recomputed()


def write(location, values: dict, scope: str = "") -> RunContext:
    ctx = RunContext(run=None, location=location, client=None, owner="test")
    upsert_values(ctx, scope, values)
    return ctx


def series(days: int, value: float | None, platform: str = "facebook", metric: str = "impressions") -> dict:
    return {(platform, metric, END - timedelta(days=n)): value for n in range(days)}


def test_writes_overwrites_gaps_and_reruns_keep_the_rollup_equal_to_the_raw_sums():
    one, two = location_make("loc-1", "One"), location_make("loc-2", "Two")
    write(one, {**series(10, 5.0), **series(10, 2.0, "instagram", "likes")})
    write(two, series(5, 7.0))
    write(two, series(45, 3.0, "instagram", "likes"))  # across February and March
    assert rollups_equal_raw()
    assert rollup()[(END, "facebook", "impressions")] == (12.0, 2)
    assert months()[(one.pk, date(2026, 3, 1), "facebook", "impressions")] == (50.0, 10)
    assert months()[(two.pk, date(2026, 2, 1), "instagram", "likes")] == (42.0, 14)
    write(one, {**series(3, 1.0), ("facebook", "impressions", END - timedelta(days=4)): None})  # overwrite, gap
    write(two, series(5, None))  # only gaps left on those days for two
    assert rollups_equal_raw()
    assert rollup()[(END, "facebook", "impressions")] == (1.0, 2)
    assert months()[(two.pk, date(2026, 3, 1), "facebook", "impressions")] == (None, 5)
    def stored():
        return [list(model.objects.order_by("pk").values()) for model in (AgencyDay, AgencyDayChange, LocationMonth)]

    before = stored()
    ctx = write(one, {**series(3, 1.0), ("facebook", "impressions", END - timedelta(days=4)): None})  # a rerun
    assert ctx.counts["rows_written"] == 0
    assert stored() == before


def test_writes_append_their_moves_and_a_fold_moves_them_into_the_rollup_once(monkeypatch):
    """Every location's write touched the same AgencyDay rows (on PostgreSQL, a wait for the others' row
    locks): a write appends its moves instead, and a fold adds them to AgencyDay, once."""
    from integrations.sync import agency_rollup

    monkeypatch.setattr(agency_rollup, "FOLD_EVERY_SECONDS", float("inf"))  # no fold after the writes
    one, two = location_make("loc-1", "One"), location_make("loc-2", "Two")
    write(one, series(10, 5.0))
    write(two, {**series(5, 7.0), **series(3, None, "instagram", "likes")})
    assert not AgencyDay.objects.exists()  # the writes touched no AgencyDay row
    assert AgencyDayChange.objects.count() == 10 + 5 + 3
    assert rollup() == recomputed()  # the readers add what is still to fold
    assert rollup()[(END, "facebook", "impressions")] == (12.0, 2)
    assert rollup()[(END, "instagram", "likes")] == (None, 1)  # a gap alone is a gap
    assert agency_days_fold() == 13  # AgencyDay rows moved
    assert not AgencyDayChange.objects.exists()
    assert folded() == recomputed() == rollup()
    assert agency_days_fold() == 0  # nothing folded twice
    write(one, series(2, 1.0))  # an overwrite: negative moves for the old values
    assert rollup() == recomputed() != folded()
    agency_days_fold()
    assert folded() == recomputed() == rollup()


@pytest.mark.django_db(transaction=True)  # a fold waits for the writer's transaction to end: no test transaction
def test_a_write_folds_once_the_process_has_not_for_a_while(monkeypatch):
    from integrations.sync import agency_rollup

    monkeypatch.setattr(agency_rollup, "FOLD_EVERY_SECONDS", 0.0)
    write(location_make("loc-1", "One"), series(3, 2.0))
    assert not AgencyDayChange.objects.exists() and folded() == recomputed()


@pytest.mark.django_db(transaction=True)
def test_a_database_too_busy_to_fold_fails_no_write(monkeypatch):
    from django.db import OperationalError

    from integrations.sync import agency_rollup

    def busy():
        raise OperationalError("database is locked")

    monkeypatch.setattr(agency_rollup, "FOLD_EVERY_SECONDS", 0.0)
    monkeypatch.setattr(agency_rollup, "agency_days_fold", busy)
    ctx = write(location_make("loc-1", "One"), series(3, 2.0))
    assert ctx.counts["created"] == 3 and AgencyDayChange.objects.count() == 3
    assert rollup() == recomputed()  # the readers add them until a fold takes them


@pytest.mark.django_db(transaction=True)  # the unit's fold waits for no transaction of its own: none in the test
def test_a_unit_folds_what_it_wrote_before_it_ends_and_the_heartbeat_folds_what_a_dead_worker_left(monkeypatch):
    from integrations import tasks
    from integrations.sync import agency_rollup, statistics

    location = location_make("loc-1", "One")
    write(location, series(4, 2.0))
    monkeypatch.setattr(statistics, "_statistics_refresh", lambda ctx: write(location, series(6, 3.0)))
    statistics.statistics_refresh(RunContext(run=None, location=location, client=None, owner="test"))
    assert not AgencyDayChange.objects.exists() and folded() == recomputed()
    monkeypatch.setattr(agency_rollup, "FOLD_EVERY_SECONDS", float("inf"))
    write(location, series(8, 4.0))  # a worker that wrote and stopped before it folded
    assert AgencyDayChange.objects.exists()
    tasks.heartbeat()
    assert not AgencyDayChange.objects.exists() and folded() == recomputed()


def test_a_write_that_fails_moves_no_rollup(monkeypatch):
    """The points and the rollups are one transaction: a worker killed (here, a write failing) mid-way
    leaves all three as they were, and the retry counts once."""
    from integrations.sync import statistics_store

    location = location_make("loc-1", "One")
    write(location, series(5, 5.0))

    def broken(*args, **kwargs):  # the update prepared, and failing when the transaction runs it
        def run():
            raise RuntimeError("killed")
        return run

    monkeypatch.setattr(statistics_store, "rows_update_prepared", broken)
    with pytest.raises(RuntimeError):
        write(location, series(10, 6.0))
    assert rollups_equal_raw()
    assert months()[(location.pk, date(2026, 3, 1), "facebook", "impressions")] == (25.0, 5)
    monkeypatch.undo()
    write(location, series(10, 6.0))  # the retry
    assert rollups_equal_raw()
    assert months()[(location.pk, date(2026, 3, 1), "facebook", "impressions")] == (60.0, 10)


def test_a_gap_alone_is_a_gap_not_zero():
    write(location_make("loc-1", "One"), series(1, None))
    assert rollup() == {(END, "facebook", "impressions"): (None, 1)} == recomputed()


def test_one_accounts_points_stay_out():
    location = location_make("loc-1", "One")
    write(location, series(3, 4.0), scope="profile-1")
    assert rollup() == {} == recomputed()


def test_a_deleted_location_leaves_the_rollup():
    one, two = location_make("loc-1", "One"), location_make("loc-2", "Two")
    write(one, series(10, 5.0))
    write(two, series(10, 7.0))
    one.delete()
    assert rollups_equal_raw()
    assert rollup()[(END, "facebook", "impressions")] == (7.0, 1)
    assert {pk for pk, *_ in months()} == {two.pk}


def test_a_rebuild_recomputes_only_its_days():
    location = location_make("loc-1", "One")
    write(location, series(10, 5.0))
    StatisticsPoint.objects.filter(day__lte=END - timedelta(days=5)).delete()  # deleted some other way
    assert agency_days_rebuild(END - timedelta(days=9), END - timedelta(days=5)) == 0
    assert rollup() == recomputed()
    assert len(rollup()) == 5


def test_a_months_rebuild_recomputes_whole_months():
    location = location_make("loc-1", "One")
    write(location, series(40, 5.0))  # 9 days of February, 31 of March
    StatisticsPoint.objects.filter(day__lte=date(2026, 2, 25)).delete()  # deleted some other way
    assert location_months_rebuild(date(2026, 2, 20), date(2026, 2, 21)) == 1  # February, whole
    assert months() == months_recomputed()
    assert months()[(location.pk, date(2026, 2, 1), "facebook", "impressions")] == (15.0, 3)


def stats_query(days: int = 365) -> StatsQuery:
    return StatsQuery(start=END - timedelta(days=days - 1), end=END, compare=True)


def agency_of(n: int, prefix: str = "loc") -> list:
    locations = [location_make(f"{prefix}-{i}", f"{prefix} {i}") for i in range(n)]
    for i, location in enumerate(locations):
        write(location, {**series(40, float(i)), **series(40, 1.0, "instagram", "likes"),
                         **series(40, 2.0, "instagram", "comments"), **series(40, 3.0, "", "posts")})
    return locations


def test_agency_statistics_from_the_rollup_equal_the_raw_sums():
    locations = agency_of(3)
    pks = [loc.pk for loc in locations]
    from_rollup = statistics_for(location_pks=pks, query=stats_query(30))
    from_raw = statistics_for(location_pks=pks[:2] + pks[2:] + [-1], query=stats_query(30))  # not every location
    assert from_rollup == from_raw
    assert from_rollup["metrics"]["impressions"]["total"] == 30 * (0 + 1 + 2)


@pytest.mark.parametrize("metric", ["impressions", "engagement", "posts"])
def test_ranking_totals_match_the_charts(metric):
    locations = agency_of(3)
    query = stats_query(30)
    ranked = locations_ranked(locations=locations, query=query, metric=metric)
    for row in ranked:
        alone = statistics_for(location_pks=[row["location"].pk], query=query)["metrics"][metric]
        assert (row["total"], row["previous_total"], row["change_pct"]) == (
            alone["total"], alone["previous_total"], alone["change_pct"])


@pytest.mark.parametrize("metric", ["impressions", "followers"])
def test_agency_reads_cost_the_same_at_2_and_20_locations(metric):
    counts = []
    for n in (2, 20):
        Location.objects.all().delete()
        locations = agency_of(n, prefix=f"agency{n}")
        with CaptureQueriesContext(connection) as captured:
            statistics_for(location_pks=[loc.pk for loc in locations], query=stats_query())
            locations_ranked(locations=locations, query=stats_query(), metric=metric)
        counts.append(len(captured))
    assert counts[0] == counts[1]


def varied_agency() -> list:
    """Three locations over 90 days to END, numbers changing day by day, with gaps; followers on two
    platforms, one of which stops reporting five days before END at the second location, and only before
    the ranges at the third."""
    locations = [location_make(f"var-{i}", f"Varied {i}") for i in range(3)]
    for i, location in enumerate(locations):
        values = {}
        for n in range(90):
            day = END - timedelta(days=n)
            values[("facebook", "impressions", day)] = None if n % 11 == 3 else float(10 * i + n % 7)
            values[("instagram", "likes", day)] = float(i + n % 5)
            values[("facebook", "comments", day)] = float(n % 3)
            values[("", "posts", day)] = float(n % 2)
            if i < 2 or n > 70:
                values[("facebook", "followers", day)] = 1000.0 * (i + 1) - n
                if not (i == 1 and n < 5):
                    values[("instagram", "followers", day)] = 500.0 - n
        write(location, values)
    return locations


@pytest.mark.parametrize("metric", ["impressions", "engagement", "posts", "likes", "followers"])
@pytest.mark.parametrize(("start", "end", "compare", "platform"), [
    (date(2026, 2, 3), date(2026, 3, 29), True, ""),  # partial months read as their month less the rest
    (date(2026, 2, 20), date(2026, 3, 5), True, ""),  # partial months read day by day
    (date(2026, 2, 1), date(2026, 3, 31), True, ""),  # whole months only (the previous range partial)
    (date(2026, 3, 10), date(2026, 3, 31), False, ""),
    (date(2026, 2, 10), date(2026, 3, 31), True, "facebook"),
])
def test_rankings_from_the_monthly_rollup_equal_the_raw_points(metric, start, end, compare, platform):
    locations = varied_agency()
    query = StatsQuery(start=start, end=end, compare=compare, platform=platform)
    ranked = locations_ranked(locations=locations, query=query, metric=metric)
    assert len(ranked) == 3
    for row in ranked:
        alone = statistics_for(location_pks=[row["location"].pk], query=query)["metrics"].get(metric, {})
        assert (row["total"], row["previous_total"], row["change_pct"]) == (
            alone.get("total"), alone.get("previous_total"), alone.get("change_pct")), row["name"]


def test_manage_py_rollup_rebuild_recomputes_both_rollups():
    from io import StringIO

    from django.core.management import call_command

    one, two = location_make("loc-1", "One"), location_make("loc-2", "Two")
    write(one, series(40, 5.0))
    write(two, series(10, 7.0))
    StatisticsPoint.objects.filter(location=one, day__lte=date(2026, 3, 3)).delete()  # not through the sync
    assert not rollups_equal_raw()
    out = StringIO()
    call_command("rollup_rebuild", stdout=out)
    assert rollups_equal_raw()
    assert months()[(one.pk, date(2026, 3, 1), "facebook", "impressions")] == (140.0, 28)
    assert (one.pk, date(2026, 2, 1), "facebook", "impressions") not in months()
    assert "location months: 2 rows recomputed" in out.getvalue()
