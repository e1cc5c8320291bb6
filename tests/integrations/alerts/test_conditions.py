"""Each condition from known rows: when it holds, when it does not, and its dedupe key."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from integrations.alerts import conditions
from integrations.models import (
    AlertRule,
    ApiCall,
    Connection,
    Destination,
    Event,
    Location,
    RateLimitDay,
    StatisticsPoint,
    SyncRun,
)

pytestmark = pytest.mark.django_db
F, S = SyncRun.Status.FAILED, SyncRun.Status.SUCCEEDED


def keys(found):
    return [c.key for c in found]


def test_a_location_failing_three_runs_in_a_row_holds(finished_runs, now):
    finished_runs(S, F, F, F)
    found = conditions.location_failing(now)
    assert keys(found) == ["location.failing:LOCfailing01"]
    assert "trace-abc" in found[0].detail and found[0].context["kinds"] == ["tags"]


def test_a_blip_is_silent(finished_runs, now):
    finished_runs(F, F, S, F)  # a success in between starts the count again
    assert conditions.location_failing(now) == []


def test_a_unit_that_waited_out_errors_and_then_succeeded_never_counts(finished_runs, now):
    runs = finished_runs(F, F, S)
    # Its retries (status `waiting`, attempts > 1) ended well: the run is one success, not failures.
    SyncRun.objects.filter(pk=runs[-1].pk).update(attempts=4, error="")
    SyncRun.objects.create(kind="tags", status=SyncRun.Status.WAITING, location=runs[0].location, attempts=2,
                           error="will try again: ServerError")
    assert conditions.location_failing(now) == []


def test_the_threshold_is_a_setting(finished_runs, now, settings):
    settings.ALERT_CONSECUTIVE_FAILURES = 2
    finished_runs(S, F, F)
    assert keys(conditions.location_failing(now)) == ["location.failing:LOCfailing01"]


def test_kinds_are_counted_apart(finished_runs, now):
    finished_runs(F, F, F, kind="statistics")
    finished_runs(S, S, kind="tags")
    assert conditions.location_failing(now)[0].context["kinds"] == ["statistics"]


def test_a_connection_needing_reconnect_holds(connection, now):
    assert conditions.connection_needs_reconnect(now) == []
    Connection.objects.filter(pk=connection.pk).update(status="needs_reconnect", last_error="invalid_grant")
    found = conditions.connection_needs_reconnect(now)
    assert keys(found) == [f"connection.needs_reconnect:{connection.pk}"] and "invalid_grant" in found[0].detail


def test_an_oauth_token_that_was_not_renewed_holds(connection, now):
    assert conditions.token_expiring(now) == []
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=now + timedelta(minutes=5))
    found = conditions.token_expiring(now)
    assert keys(found) == [f"token.expiring:{connection.pk}"] and "in 5 min" in found[0].title


def test_an_old_private_integration_token_holds(db, now):
    pit = Connection.objects.create(name="Bakery PIT", kind=Connection.Kind.PRIVATE_TOKEN, location_id="L1",
                                    connected_at=now - timedelta(days=82))
    assert conditions.token_expiring(now) == []
    Connection.objects.filter(pk=pit.pk).update(connected_at=now - timedelta(days=84))
    assert "84 days old" in conditions.token_expiring(now)[0].title


def test_quota_above_the_threshold_holds_from_either_source(location, now, settings):
    settings.ALERT_QUOTA_PERCENT = 80
    RateLimitDay.objects.create(key="app:LOCfailing01", day=now.date(), count=10, reported_remaining=50_000,
                                reported_limit=200_000)
    assert conditions.quota_high(now) == []
    ApiCall.objects.create(at=now - timedelta(minutes=1), method="GET", endpoint="/x", resource_id="LOCfailing01",
                           status=200, latency_ms=100, daily_remaining=30_000, daily_limit=200_000)
    found = conditions.quota_high(now)
    assert keys(found) == ["quota.high:LOCfailing01"]
    assert found[0].title == "Downtown Bakery used 85% of HighLevel's daily quota"
    assert conditions.quota_high(now + timedelta(days=1)) == []  # a new UTC day


def test_a_missing_worker_holds(heartbeat, now):
    assert conditions.worker_missing(now) == []
    assert keys(conditions.worker_missing(now + timedelta(minutes=4))) == ["worker.missing"]


def test_only_a_destination_that_paused_itself_holds(db, now):
    from integrations.delivery.sending import destination_pause

    auto = Destination.objects.create(name="Pleo", url="https://example.com/a", secret_enc="x")
    manual = Destination.objects.create(name="Plezi", url="https://example.com/b", secret_enc="x")
    destination_pause(destination_id=auto.pk, reason="Paused automatically: 5 attempts failed", automatic=True)
    destination_pause(destination_id=manual.pk, reason="maintenance", automatic=False)
    assert Event.objects.filter(type="destination.paused").count() == 1
    assert keys(conditions.destination_paused(now)) == [f"destination.paused:{auto.pk}"]


def _points(location, metric, this_week, previous_week, now: datetime):
    end = now.date() - timedelta(days=1)
    for n in range(14):
        value = this_week if n < 7 else previous_week
        StatisticsPoint.objects.create(location=location, profile_id="", platform="", metric=metric,
                                       day=end - timedelta(days=n), value=value / 7, fetched_at=now)


def test_a_statistics_rule_holds_when_impressions_fall_more_than_30_percent(location, now):
    other = Location.objects.create(location_id="LOCsteady02", connection=location.connection, name="Steady")
    _points(location, "impressions", 600, 1000, now)  # -40%
    _points(other, "impressions", 900, 1000, now)  # -10%
    rule = AlertRule.objects.create(name="Impressions fall over 30%", metric="impressions", threshold=30)
    found = conditions.statistics_rules(now)
    assert keys(found) == [f"rule:{rule.pk}:LOCfailing01"]
    assert "-40.0%" in found[0].detail and found[0].title == "Downtown Bakery: Impressions fall over 30%"
    AlertRule.objects.filter(pk=rule.pk).update(comparison="below", threshold=950)
    assert len(conditions.statistics_rules(now)) == 2
    AlertRule.objects.filter(pk=rule.pk).update(location=other, comparison="above", threshold=850)
    assert keys(conditions.statistics_rules(now)) == [f"rule:{rule.pk}:LOCsteady02"]


def test_a_disconnected_or_uninstalled_location_is_not_expected_to_sync(finished_runs, location, now):
    finished_runs(F, F, F)
    Connection.objects.filter(pk=location.connection_id).update(status=Connection.Status.DISCONNECTED)
    assert conditions.location_failing(now) == []
    Connection.objects.filter(pk=location.connection_id).update(status=Connection.Status.ACTIVE)
    Location.objects.filter(pk=location.pk).update(is_installed=False)
    assert conditions.location_failing(now) == []
