"""/operations/: what it shows from known rows, its percentiles, and that it stays fast at 100k calls."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from dashboard.selectors.operations import freshness, operations_overview
from dashboard.selectors.operations_metrics import call_stats, percentile
from integrations.models import Alert, ApiCall, Connection, Location, RateLimitDay, SyncRun, WorkerHeartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db):
    connection = Connection.objects.create(name="Acme agency", kind=Connection.Kind.OAUTH_AGENCY, company_id="C1")
    location = Location.objects.create(location_id="LOCbakery01", connection=connection, name="Downtown Bakery")
    return connection, location


def _calls(location, connection, latencies, *, status=200, attempt=1, at=None):
    at = at or timezone.now() - timedelta(minutes=5)
    ApiCall.objects.bulk_create([
        ApiCall(at=at, method="GET", endpoint="/tags", resource_id=location.location_id,
                connection_id=connection.pk, status=status, latency_ms=ms, attempt=attempt) for ms in latencies
    ])


def test_percentiles_come_from_a_histogram_within_ten_percent(place):
    connection, location = place
    latencies = list(range(1, 2001))  # 1..2000 ms, once each
    _calls(location, connection, latencies)
    stats = call_stats(since=timezone.now() - timedelta(hours=1))[(connection.pk, location.location_id)]
    assert stats["calls"] == 2000
    assert 1000 * 0.9 <= stats["p50"] <= 1000 and 1900 * 0.9 <= stats["p95"] <= 1900
    assert percentile(Counter({5: 1, 50: 98, 900: 1}), 50) == 50
    assert percentile(Counter(), 95) is None


def test_freshness_is_measured_against_the_schedule():
    now = timezone.now()
    assert freshness(now - timedelta(minutes=20), 15, now)["state"] == "fresh"
    assert freshness(now - timedelta(minutes=40), 15, now)["state"] == "late"
    assert freshness(now - timedelta(minutes=90), 15, now)["state"] == "stale"
    assert freshness(None, 15, now)["state"] == "never"


def test_the_page_shows_each_location_and_connection(admin_http, place):
    connection, location = place
    now = timezone.now()
    for n, status in enumerate(["succeeded"] * 3 + ["failed"]):
        SyncRun.objects.create(kind="tags", status=status, location=location, connection=connection,
                               started_at=now - timedelta(minutes=n + 1), finished_at=now - timedelta(minutes=n))
    _calls(location, connection, [100] * 8)
    _calls(location, connection, [300, 300], status=429, attempt=2)
    RateLimitDay.objects.create(key=f"app:{location.location_id}", day=now.date(), reported_remaining=150_000,
                                reported_limit=200_000)
    WorkerHeartbeat.objects.create(name="tagscope", beat_at=now)
    Alert.objects.create(kind="quota.high", dedupe_key="quota.high:x", title="Bakery used 85% of the quota",
                         first_seen_at=now, last_seen_at=now)
    response = admin_http.get("/operations/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Downtown Bakery" in html and "Acme agency" in html
    assert "75.0%" in html  # 3 of 4 runs in 24 h
    assert "25.0%" in html  # quota used
    assert "100 / 300" in html  # p50 / p95 ms
    assert "Bakery used 85% of the quota" in html
    assert 'id="ops-charts"' in html and "vendor/chart.js/chart.umd.min.js" in html and "js/operations.js" in html
    charts = response.context["charts"]
    assert charts["runs_succeeded"][-1] == 3 and charts["runs_failed"][-1] == 1
    assert charts["throttled"][-1] == 2 and charts["quota_pct"][-1] == 25.0
    row = response.context["locations"][0]
    assert row["calls"]["throttled"] == 2 and row["calls"]["retries"] == 2
    assert row["kinds"]["tags"]["state"] == "fresh" and row["freshness"] == "never"  # statistics never ran


def test_the_nav_links_to_operations_for_admins_only(admin_user, marketer_user):
    from django.test import Client

    admin, marketer = Client(), Client()
    admin.force_login(admin_user)
    marketer.force_login(marketer_user)
    assert 'href="/operations/"' in admin.get("/profile/").content.decode()
    assert 'href="/operations/"' not in marketer.get("/profile/").content.decode()


def _insert_calls(rows):
    """100k rows straight through the cursor: model instances would make the setup the slow part."""
    from django.db import connection as db

    table = ApiCall._meta.db_table
    columns = "at, method, endpoint, resource_id, connection_id, status, latency_ms, attempt, error, trace_id, " \
              "daily_remaining, daily_limit"
    with db.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * 12)})", rows)


def test_the_page_stays_fast_with_100k_calls(admin_http, place, django_assert_max_num_queries):
    connection, location = place
    others = [Location.objects.create(location_id=f"LOCother{n:03d}", connection=connection, name=f"Shop {n}")
              for n in range(20)]
    now = timezone.now()
    rows = [(now - timedelta(minutes=n % 10_000), "GET", "/x", (others[n % 20] if n % 3 else location).location_id,
             connection.pk, 429 if n % 97 == 0 else 200, 20 + (n * 7919) % 3000, 2 if n % 50 == 0 else 1, "", "",
             200_000 - n % 5000, 200_000) for n in range(100_000)]
    _insert_calls(rows)
    SyncRun.objects.bulk_create([SyncRun(kind="tags", status="succeeded", location=others[n % 20],
                                         connection=connection, finished_at=now - timedelta(minutes=n))
                                 for n in range(2000)])
    admin_http.get("/operations/")  # warm caches (session, permissions)
    # Its speed is a benchmark's to measure; a test holds the number of queries, which does not vary with load.
    with django_assert_max_num_queries(40):
        response = admin_http.get("/operations/")
    assert response.status_code == 200
    assert sum(r["calls"].get("calls", 0) for r in response.context["locations"]) == sum(
        1 for r in rows if r[0] > now - timedelta(hours=24))
    first_day = datetime.combine(now.date() - timedelta(days=6), datetime.min.time(), tzinfo=UTC)
    assert sum(response.context["charts"]["calls"]) == sum(1 for r in rows if r[0] >= first_day)


def test_the_overview_query_count_does_not_grow_with_locations(place, django_assert_max_num_queries):
    connection, _ = place
    with django_assert_max_num_queries(30) as few:
        operations_overview()
    for n in range(30):
        Location.objects.create(location_id=f"LOCmore{n}", connection=connection, name=f"More {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        operations_overview()
