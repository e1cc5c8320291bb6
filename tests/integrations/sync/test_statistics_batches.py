"""A first statistics fill is hundreds of one-day requests: their answers are written BREAKDOWN_BATCH at a time
(one read and one transaction per scope), not one write per request; a failure keeps what was proven before
it, a lost lease writes nothing more."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.errors import ServerError
from integrations.models import StatisticsPoint, SyncRun
from integrations.sync import statistics, statistics_store
from integrations.sync.locks import LeaseLost
from integrations.sync.runs import RunContext
from integrations.sync.services import refresh_location_enqueue
from tests.dashboard.browsing_factories import location_make


@pytest.fixture
def short_horizon(settings):
    settings.SYNC_STATISTICS_HORIZON_DAYS, settings.SYNC_STATISTICS_REFETCH_DAYS = 20, 3
    settings.SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS = settings.SYNC_STATISTICS_BREAKDOWN_DAYS_PER_RUN = 20


@pytest.fixture
def upserts(monkeypatch) -> list[tuple[str, int]]:
    """(scope, how many points) of every comparison with the stored points that the one-day answers cause
    (each scope's batch is read once, and the batch written in one transaction)."""
    calls: list[tuple[str, int]] = []
    real = statistics.points_compare

    def spy(ctx, scope, values):
        calls.append((scope, len(values)))
        return real(ctx, scope, values)

    monkeypatch.setattr(statistics, "points_compare", spy)
    return calls


def fail_after(monkeypatch, n: int, exc: Exception) -> None:
    """The client's one-day statistics requests raise `exc` from the (n+1)th on."""
    real = HighLevelClient.get_statistics
    seen = [0]

    def get_statistics(self, location_id, profile_ids, *, current_range, previous_range=None, **kwargs):
        if previous_range is None:  # a one-day breakdown
            seen[0] += 1
            if seen[0] > n:
                raise exc
        return real(self, location_id, profile_ids, current_range=current_range, previous_range=previous_range,
                    **kwargs)

    monkeypatch.setattr(HighLevelClient, "get_statistics", get_statistics)


def asked_days(location) -> set:
    return set(StatisticsPoint.objects.filter(location=location, platform="", metric="reach")
               .values_list("profile_id", "day"))


def test_one_day_answers_are_written_a_batch_at_a_time(hl, location, short_horizon, upserts, monkeypatch):
    monkeypatch.setattr(statistics, "BREAKDOWN_BATCH", 16)
    run = refresh_location_enqueue(location, kinds=["statistics"])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    asked = asked_days(location)
    scopes = {scope for scope, _ in asked}
    assert len(asked) == 20 * len(scopes)  # every scope's every day, as before
    # One write per scope per batch of 16 answers, where each answer was a write of its own.
    assert len(upserts) <= math.ceil(len(asked) / 16) * len(scopes)
    assert len(upserts) < len(asked) / 2


def test_a_failure_mid_fill_keeps_the_answers_proven_before_it(hl, location, short_horizon, monkeypatch):
    monkeypatch.setattr(statistics, "BREAKDOWN_BATCH", 1000)  # nothing written before the failure
    fail_after(monkeypatch, 7, ServerError("HighLevel is down", status=503, retryable=False))
    run = refresh_location_enqueue(location, kinds=["statistics"])
    run.refresh_from_db()
    assert run.status in (SyncRun.Status.FAILED, SyncRun.Status.WAITING), run.status
    assert len(asked_days(location)) == 7
    today = timezone.now().date()
    assert {day for _, day in asked_days(location)} <= {today - timedelta(days=n) for n in range(3)}


def test_a_lost_lease_writes_no_buffered_answer(hl, location, short_horizon, monkeypatch):
    monkeypatch.setattr(statistics, "BREAKDOWN_BATCH", 1000)
    fail_after(monkeypatch, 7, LeaseLost("taken over"))
    refresh_location_enqueue(location, kinds=["statistics"])
    assert asked_days(location) == set()
    assert StatisticsPoint.objects.filter(location=location, metric="impressions").exists()  # the ranges were


def test_a_batch_is_compared_outside_its_one_write_transaction(db):
    """On SQLite the one write lock is held from a transaction's start: the batch's reads (and the comparing and
    preparing) happen before it, and every scope's rows go in one transaction."""
    location = location_make("loc-batch", "Batch", tz="UTC")
    ctx = RunContext(run=None, location=location, client=None, owner="test")
    day = timezone.now().date()
    statistics_store.upsert_values(ctx, "", {("", "reach", day): 1.0})  # one stored point, to be updated
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql.split()[0].upper())
        return execute(sql, params, many, context)

    breakdowns = statistics._Breakdowns(ctx)
    breakdowns.pending = {"": {("", "reach", day): 2.0, ("", "shares", day): 3.0},
                          "profile-1": {("facebook", "reach", day): 4.0}}
    with connection.execute_wrapper(record):  # the test's own transaction: the flush's is a savepoint in it
        breakdowns.flush()
    begin, end = statements.index("SAVEPOINT"), statements.index("RELEASE")
    assert statements[:begin] == ["SELECT", "SELECT"]  # each scope's stored points, read before the transaction
    assert statements.count("SAVEPOINT") == 1  # one transaction for both scopes
    assert set(statements[begin + 1:end]) == {"INSERT", "UPDATE"} and "SELECT" not in statements[end:]
    assert dict(StatisticsPoint.objects.filter(location=location, profile_id="").values_list("metric", "value")
                ) == {"reach": 2.0, "shares": 3.0}
    assert StatisticsPoint.objects.get(location=location, profile_id="profile-1").value == 4.0
    assert ctx.counts["created"] == 3 and ctx.counts["updated"] == 1
