"""The nightly prune: each table's window, the runs and events that must stay, batches, the record, the
schedule and `manage.py prune`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.models import Failure, Schedule

from integrations.models import (
    Alert,
    ApiCall,
    ApiCallDay,
    AuditEntry,
    Delivery,
    DeliveryAttempt,
    DeliveryCursor,
    Destination,
    Event,
    InboundWebhook,
    Location,
    PruneRun,
    RateLimitDay,
    SyncLease,
    SyncRun,
)
from integrations.retention.prune import prune_run
from integrations.schedules import PRUNE, ensure_schedules

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 20, 3, 30, tzinfo=UTC)


def _call(at, **extra):
    return ApiCall.objects.create(at=at, method="GET", endpoint="/tags", resource_id="L1", status=200,
                                  latency_ms=50, **extra)


def _run(location, kind="tags", *, age_days, status=SyncRun.Status.SUCCEEDED, **extra):
    run = SyncRun.objects.create(kind=kind, status=status, location=location, **extra)
    SyncRun.objects.filter(pk=run.pk).update(created_at=NOW - timedelta(days=age_days))
    return run


@pytest.fixture
def location(db):
    return Location.objects.create(location_id="LOCprune01", name="Prune bakery")


def test_api_calls_go_by_whole_days_past_the_window_after_their_day_is_rolled_up(settings):
    settings.RETENTION_API_CALLS_DAYS = 14
    kept_from = datetime(2026, 3, 6, tzinfo=UTC)  # 20 March minus 14 days
    gone = [_call(kept_from - timedelta(seconds=1)), _call(NOW - timedelta(days=40))]
    kept = [_call(kept_from), _call(NOW - timedelta(days=1))]
    record = prune_run(now=NOW)
    assert set(ApiCall.objects.values_list("pk", flat=True)) == {c.pk for c in kept}
    assert record.deleted["HighLevel calls"] == len(gone)
    # The day that went was rolled up first: its calls are still counted.
    assert ApiCallDay.objects.get(day=datetime(2026, 3, 5).date()).calls == 1


def test_sync_runs_past_the_window_go_but_the_last_of_each_location_and_kind_stay(settings, location):
    settings.RETENTION_SYNC_RUNS_DAYS, settings.RETENTION_SYNC_RUNS_KEEP = 90, 3
    old_tags = [_run(location, age_days=200 - n) for n in range(5)]  # the newest 3 of them stay
    old_stats = [_run(location, "statistics", age_days=100)]  # the only statistics run: stays
    recent = _run(location, age_days=10)
    running = _run(location, "accounts", age_days=120, status=SyncRun.Status.RUNNING)
    others = [_run(location, "accounts", age_days=1) for _ in range(3)]
    prune_run(now=NOW)
    left = set(SyncRun.objects.values_list("pk", flat=True))
    assert left == {recent.pk, running.pk, *(r.pk for r in old_stats), *(r.pk for r in others),
                    old_tags[-1].pk, old_tags[-2].pk}
    assert old_tags[0].pk not in left and old_tags[2].pk not in left


def test_a_bulk_run_goes_with_its_units_and_stays_while_one_of_them_is_kept(settings, location):
    settings.RETENTION_SYNC_RUNS_DAYS, settings.RETENTION_SYNC_RUNS_KEEP = 90, 1
    other = Location.objects.create(location_id="LOCprune02", name="Other")
    old_parent = _run(None, SyncRun.Kind.ALL, age_days=120)
    _run(location, age_days=120, parent=old_parent)
    _run(other, age_days=120, parent=old_parent)
    newer_parent = _run(None, SyncRun.Kind.ALL, age_days=100)  # the last 'all' run: kept
    _run(location, age_days=100, parent=newer_parent)  # the last tags run of location: kept
    last_of_other = _run(other, age_days=100, parent=newer_parent)
    # References to pruned runs are cleared, not left dangling (foreign keys are on).
    retry = _run(location, "accounts", age_days=1, retry_of=SyncRun.objects.filter(parent=old_parent).first())
    SyncLease.objects.create(location=other, kind="tags", run=SyncRun.objects.filter(parent=old_parent).last())
    record = prune_run(now=NOW)
    assert not SyncRun.objects.filter(pk=old_parent.pk).exists()
    assert SyncRun.objects.filter(parent=newer_parent).count() == 2 and last_of_other.pk
    assert record.deleted["Sync runs"] == 2 and record.deleted["Sync runs (bulk)"] == 1
    retry.refresh_from_db()
    assert retry.retry_of_id is None and SyncLease.objects.get().run_id is None


def test_events_go_only_once_the_fan_out_has_read_them(settings):
    settings.RETENTION_EVENTS_DAYS = 30
    Destination.objects.create(name="CRM", url="https://example.com/hook", secret_enc="x")
    old = [Event.objects.create(type="tag.created", occurred_at=NOW - timedelta(days=40)) for _ in range(60)]
    fresh = Event.objects.create(type="tag.created", occurred_at=NOW - timedelta(days=1))
    DeliveryCursor.objects.create(name="fanout", last_event_id=old[9].pk + 50)  # read up to old[9] (+ rewind)
    prune_run(now=NOW)
    assert not Event.objects.filter(pk__lte=old[9].pk).exists()
    assert Event.objects.filter(pk__gt=old[9].pk).count() == 51 and Event.objects.filter(pk=fresh.pk).exists()


def test_the_paused_event_of_a_destination_still_paused_stays(settings):
    settings.RETENTION_EVENTS_DAYS = 30
    Destination.objects.create(name="CRM", url="https://example.com/hook", secret_enc="x", is_active=False,
                               paused_at=NOW - timedelta(days=45))
    paused = Event.objects.create(type=Event.Type.DESTINATION_PAUSED, occurred_at=NOW - timedelta(days=45))
    other = Event.objects.create(type="tag.created", occurred_at=NOW - timedelta(days=45))
    DeliveryCursor.objects.create(name="fanout", last_event_id=other.pk + 100)
    prune_run(now=NOW)
    assert list(Event.objects.values_list("pk", flat=True)) == [paused.pk]


def test_without_destinations_every_old_event_goes(settings):
    Event.objects.create(type="tag.created", occurred_at=NOW - timedelta(days=31))
    assert prune_run(now=NOW).deleted["Events"] == 1


def test_deliveries_webhooks_audit_alerts_failures_and_quota_days_keep_their_windows(settings):
    destination = Destination.objects.create(name="CRM", url="https://example.com/hook", secret_enc="x")
    old, new = NOW - timedelta(days=31), NOW - timedelta(days=29)
    done = Delivery.objects.create(destination=destination, event_seq=1, event_type="t", body="{}",
                                   next_attempt_at=old, status=Delivery.Status.DELIVERED)
    pending = Delivery.objects.create(destination=destination, event_seq=2, event_type="t", body="{}",
                                      next_attempt_at=old)
    Delivery.objects.filter(pk__in=[done.pk, pending.pk]).update(created_at=old)
    DeliveryAttempt.objects.create(delivery=pending, number=1, at=old)
    kept_attempt = DeliveryAttempt.objects.create(delivery=pending, number=2, at=new)
    for at in (old, new):
        InboundWebhook.objects.create(webhook_id=f"w{at:%d}", type="INSTALL", received_at=at)
    AuditEntry.objects.create(at=NOW - timedelta(days=401), action="tested")
    kept_audit = AuditEntry.objects.create(at=NOW - timedelta(days=399), action="tested")
    Alert.objects.create(kind="k", dedupe_key="a", title="t", first_seen_at=old, last_seen_at=old,
                         state=Alert.State.RESOLVED, resolved_at=NOW - timedelta(days=181))
    open_alert = Alert.objects.create(kind="k", dedupe_key="b", title="t", first_seen_at=old - timedelta(days=300),
                                      last_seen_at=old)
    Failure.objects.create(id="f1", name="f1", func="x", started=old, stopped=old, success=False)
    RateLimitDay.objects.create(key="loc:L1", day=(NOW - timedelta(days=15)).date())
    kept_day = RateLimitDay.objects.create(key="loc:L1", day=(NOW - timedelta(days=13)).date())
    record = prune_run(now=NOW)
    assert list(Delivery.objects.values_list("pk", flat=True)) == [pending.pk]  # a pending one is never lost
    assert list(DeliveryAttempt.objects.values_list("pk", flat=True)) == [kept_attempt.pk]
    assert list(InboundWebhook.objects.values_list("received_at", flat=True)) == [new]
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [kept_audit.pk]
    assert list(Alert.objects.values_list("pk", flat=True)) == [open_alert.pk]
    assert not Failure.objects.exists()
    assert list(RateLimitDay.objects.values_list("pk", flat=True)) == [kept_day.pk]
    assert record.deleted["Deliveries"] == 1 and record.deleted["Failed tasks"] == 1


def test_it_deletes_in_batches_of_the_configured_size(settings):
    settings.PRUNE_BATCH_SIZE = 100
    ApiCall.objects.bulk_create([ApiCall(at=NOW - timedelta(days=30), method="GET", endpoint="/t",
                                         latency_ms=1) for _ in range(250)])
    with CaptureQueriesContext(connection) as queries:
        prune_run(now=NOW, measure=False)
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE") and "apicall\"" in q["sql"]]
    assert len(deletes) == 3 and not ApiCall.objects.exists()


def test_a_dry_run_counts_and_changes_nothing():
    for age in (20, 21):
        _call(NOW - timedelta(days=age))
    record = prune_run(now=NOW, dry_run=True)
    assert record.deleted["HighLevel calls"] == 2
    assert ApiCall.objects.count() == 2 and not ApiCallDay.objects.exists() and not PruneRun.objects.exists()


def test_the_record_holds_counts_duration_and_table_sizes():
    _call(NOW - timedelta(days=20))
    record = prune_run(now=NOW)
    saved = PruneRun.objects.get()
    assert saved.pk == record.pk and saved.finished_at and saved.seconds >= 0
    assert saved.deleted["HighLevel calls"] == 1
    sizes = {row["table"]: row for row in saved.sizes}
    assert sizes["integrations_apicallday"]["rows"] == 1 and sizes["integrations_apicall"]["rows"] == 0
    assert saved.database_bytes and saved.database_bytes > 0


def test_a_failing_table_is_recorded_and_the_others_still_go(monkeypatch):
    from integrations.retention import rules

    def broken(ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(rules, "RULES", [rules.Rule("Broken", broken), *rules.RULES])
    monkeypatch.setattr("integrations.retention.prune.RULES", rules.RULES)
    _call(NOW - timedelta(days=20))
    record = prune_run(now=NOW, measure=False)
    assert "Broken: RuntimeError: disk on fire" in record.error and record.deleted["HighLevel calls"] == 1


def test_pruning_twice_deletes_nothing_the_second_time():
    for age in (20, 1):
        _call(NOW - timedelta(days=age))
    prune_run(now=NOW, measure=False)
    days = list(ApiCallDay.objects.values_list("day", "calls"))
    second = prune_run(now=NOW, measure=False)
    assert sum(second.deleted.values()) == 0 and list(ApiCallDay.objects.values_list("day", "calls")) == days


def test_the_nightly_schedule_is_created_once(settings):
    ensure_schedules()
    ensure_schedules()
    schedule = Schedule.objects.get(name=PRUNE)
    assert schedule.func == "integrations.tasks.prune" and schedule.schedule_type == Schedule.DAILY
    assert schedule.next_run.hour == settings.PRUNE_HOUR_UTC and schedule.next_run.minute == 30


def test_the_task_prunes(settings):
    from integrations.tasks import prune

    _call(datetime.now(tz=UTC) - timedelta(days=30))
    assert prune()["deleted"]["HighLevel calls"] == 1 and PruneRun.objects.get().trigger == "schedule"


def test_the_command_prints_what_it_deletes_and_a_dry_run_deletes_nothing():
    _call(datetime.now(tz=UTC) - timedelta(days=30))
    out = StringIO()
    call_command("prune", "--dry-run", stdout=out)
    assert "HighLevel calls: would delete 1" in out.getvalue() and ApiCall.objects.count() == 1
    out = StringIO()
    call_command("prune", stdout=out)
    assert "HighLevel calls: deleted 1" in out.getvalue() and not ApiCall.objects.exists()
    assert PruneRun.objects.get().trigger == "command"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("RETENTION_SYNC_RUNS_DAYS", "3", "at least 8"), ("RETENTION_EVENTS_DAYS", "thirty", "whole number"),
    ("PRUNE_HOUR_UTC", "24", "0 to 23"),
])
def test_a_bad_window_setting_is_refused_by_name(monkeypatch, name, value, message):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import dashboard.settings

    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=f"{name} must .*{message}"):
        importlib.reload(dashboard.settings)
    monkeypatch.delenv(name)
    importlib.reload(dashboard.settings)


def test_rows_that_cascade_go_with_theirs_and_references_are_cleared(settings):
    """A batch whose rows have others that cascade goes through Django's collector; SET_NULL references (a
    lease, a retry) are cleared before the rows go without being loaded."""
    destination = Destination.objects.create(name="CRM", url="https://example.com/hook", secret_enc="x")
    old = NOW - timedelta(days=31)
    done = Delivery.objects.create(destination=destination, event_seq=1, event_type="t", body="{}",
                                   next_attempt_at=old, status=Delivery.Status.DEAD)
    Delivery.objects.filter(pk=done.pk).update(created_at=old)
    DeliveryAttempt.objects.create(delivery=done, number=7, at=NOW - timedelta(days=2))  # inside its window
    prune_run(now=NOW, measure=False)
    assert not Delivery.objects.exists() and not DeliveryAttempt.objects.exists()


def test_the_connections_page_cache_is_put_back_after_a_prune():
    if connection.vendor != "sqlite":
        pytest.skip("a SQLite pragma")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        prune_run(now=NOW, measure=False)
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before
