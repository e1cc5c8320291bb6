"""A first statistics fill is hundreds of one-day requests: their answers are written BREAKDOWN_BATCH at a time
(one read and one transaction per scope), not one write per request; a failure keeps what was proven before
it, a lost lease writes nothing more."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.errors import ServerError
from integrations.models import StatisticsPoint, SyncRun
from integrations.sync import statistics
from integrations.sync.locks import LeaseLost
from integrations.sync.services import refresh_location_enqueue


@pytest.fixture
def short_horizon(settings):
    settings.SYNC_STATISTICS_HORIZON_DAYS, settings.SYNC_STATISTICS_REFETCH_DAYS = 20, 3
    settings.SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS = settings.SYNC_STATISTICS_BREAKDOWN_DAYS_PER_RUN = 20


@pytest.fixture
def upserts(monkeypatch) -> list[tuple[str, int]]:
    """(scope, how many points) of every write the one-day answers cause."""
    calls: list[tuple[str, int]] = []
    real = statistics.upsert_values

    def spy(ctx, scope, values):
        calls.append((scope, len(values)))
        return real(ctx, scope, values)

    monkeypatch.setattr(statistics, "upsert_values", spy)
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
