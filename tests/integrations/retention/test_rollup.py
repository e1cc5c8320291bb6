"""Daily call rollups: the same figures as the raw rows, idempotent, and what the Operations charts read once
the raw rows are pruned."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from dashboard.selectors.operations import operations_overview
from dashboard.selectors.operations_metrics import daily_calls
from integrations.models import ApiCall, ApiCallDay, Connection
from integrations.retention.prune import prune_run
from integrations.retention.rollup import api_call_day_roll_up, api_calls_roll_up

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 20, 3, 30, tzinfo=UTC)


def _calls(day: date, *, connection_id=None, n=10, status=200, attempt=1, latency=120):
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    ApiCall.objects.bulk_create([ApiCall(at=at, method="GET", endpoint="/tags", resource_id="L1", status=status,
                                         attempt=attempt, latency_ms=latency + i, connection_id=connection_id)
                                 for i in range(n)])


def test_a_rolled_up_day_reads_the_same_as_its_raw_rows():
    day = date(2026, 3, 15)
    connection = Connection.objects.create(name="A", kind=Connection.Kind.OAUTH_AGENCY, company_id="C")
    _calls(day, connection_id=connection.pk, n=90)
    _calls(day, n=5, status=429, attempt=2, latency=900)
    _calls(day, n=5, status=None, latency=5000)
    raw = daily_calls(days=[day])[day]
    assert api_call_day_roll_up(day=day) == 100
    assert ApiCallDay.objects.count() == 2  # one row per connection (and none)
    rolled = daily_calls(days=[day])[day]
    for key in ("calls", "throttled", "retries", "errors", "p50", "p95"):
        assert rolled[key] == raw[key], key
    assert (rolled["calls"], rolled["throttled"], rolled["retries"], rolled["errors"]) == (100, 5, 5, 5)


def test_rolling_up_again_changes_nothing_and_late_rows_of_yesterday_are_counted():
    yesterday = date(2026, 3, 19)
    _calls(date(2026, 3, 17), n=3)
    _calls(yesterday, n=4)
    assert api_calls_roll_up(now=NOW) == 3  # 17, 18 (no calls) and 19 March
    assert api_calls_roll_up(now=NOW) == 2  # 18 March still has no row, and yesterday is always redone
    _calls(yesterday, n=2)  # written late by a buffered recorder
    api_calls_roll_up(now=NOW)
    assert dict(ApiCallDay.objects.values_list("day", "calls")) == {date(2026, 3, 17): 3, yesterday: 6}


def test_the_operations_charts_keep_the_days_whose_calls_were_pruned(settings):
    settings.RETENTION_API_CALLS_DAYS = 2
    with time_machine.travel(NOW, tick=False):
        for back in range(1, 7):
            _calls(NOW.date() - timedelta(days=back), n=back, status=429)
        prune_run(now=NOW, measure=False)
        assert ApiCall.objects.filter(at__lt=NOW - timedelta(days=3)).count() == 0  # raw rows gone...
        _calls(NOW.date(), n=7)
        charts = operations_overview(now=NOW)["charts"]
    assert charts["calls"] == [6, 5, 4, 3, 2, 1, 7]  # ...but every day of the chart is still counted
    assert charts["throttled"] == [6, 5, 4, 3, 2, 1, 0]
    assert charts["p95"][0] is not None


def test_a_run_older_than_the_call_window_says_its_calls_were_pruned(admin_http, settings):
    from integrations.models import SyncRun

    settings.RETENTION_API_CALLS_DAYS = 14
    old = SyncRun.objects.create(kind="tags", status="succeeded")
    SyncRun.objects.filter(pk=old.pk).update(created_at=datetime.now(tz=UTC) - timedelta(days=20))
    recent = SyncRun.objects.create(kind="tags", status="succeeded")
    assert "call records are kept 14 days" in admin_http.get(f"/operations/runs/{old.pk}/").content.decode()
    page = admin_http.get(f"/operations/runs/{recent.pk}/").content.decode()
    assert "No HighLevel call recorded for this run" in page and "call records are kept" not in page
