"""/operations/'s storage section: table sizes and the last prune, or how to get one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import ApiCall
from integrations.retention.prune import prune_run
from integrations.schedules import ensure_schedules

pytestmark = pytest.mark.django_db


def test_before_any_prune_it_says_when_the_first_runs(admin_http):
    ensure_schedules()
    page = admin_http.get("/operations/").content.decode()
    assert 'data-testid="last-prune"' in page and "Never" in page and "manage.py prune" in page
    assert 'data-testid="table-sizes"' not in page


def test_after_a_prune_it_shows_each_tables_size_and_what_went(admin_http, settings):
    settings.RETENTION_API_CALLS_DAYS = 14
    ApiCall.objects.bulk_create([ApiCall(at=timezone.now() - timedelta(days=30), method="GET", endpoint="/t",
                                         latency_ms=1) for _ in range(1234)])
    ApiCall.objects.create(at=timezone.now(), method="GET", endpoint="/t", latency_ms=1)
    record = prune_run()
    page = admin_http.get("/operations/").content.decode()
    sizes = page[page.index('data-testid="table-sizes"'):]
    assert "<code>integrations_apicall</code></td><td class=\"num\">1</td>" in sizes
    pruned = page[page.index('data-testid="pruned"'):page.index('data-testid="table-sizes"')]
    assert "HighLevel calls</td><td class=\"num\">1,234</td>" in pruned
    assert "Events</td>" not in pruned  # what had nothing to delete is left out
    assert "1,234 <span class=\"small muted\">rows deleted" in page
    assert f"took {record.seconds:.1f} s" in page
    if any(row["bytes"] for row in record.sizes):  # dbstat or pg_total_relation_size answered
        assert "KB" in sizes or "MB" in sizes


def test_marketers_do_not_see_it(marketer_http):
    assert marketer_http.get("/operations/").status_code in (302, 403)


def test_the_run_history_says_how_long_runs_are_kept(admin_http, settings):
    settings.RETENTION_SYNC_RUNS_DAYS, settings.RETENTION_SYNC_RUNS_KEEP = 60, 5
    page = admin_http.get("/operations/runs/").content.decode()
    assert "runs are kept 60 days, and the last 5 of each location and kind" in page
