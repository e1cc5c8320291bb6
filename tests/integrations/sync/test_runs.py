"""Runs: the lease (one refresh per location and kind; the second is recorded as skipped), a dead worker's
run taken over, retries with backoff, auth failures to the connection, retry of a failed unit, the API shape."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import time_machine
from django.utils import timezone
from django_q.models import Schedule

from integrations.highlevel.errors import RateLimited
from integrations.models import Connection, Event, Location, SyncLease, SyncRun, Tag
from integrations.schedules import ensure_schedules
from integrations.sync.locks import LEASE, lease_claim, lease_owner
from integrations.sync.runs import bulk_plan, location_plan, run_start
from integrations.sync.scheduling import batches_plan, connection_sync_frequency_set, schedule_name
from integrations.sync.services import (
    locations_interleaved,
    refresh_all_enqueue,
    refresh_location_enqueue,
    run_retry,
    sync_unit_execute,
)


def test_two_runs_of_the_same_location_at_once_one_is_skipped(hl, location):
    _, (first,) = location_plan(location, kinds=["tags"])
    _, (second,) = location_plan(location, kinds=["tags"])
    # The first run's worker holds the lease (as it would while fetching pages).
    assert lease_claim(location_id=location.pk, kind="tags", run_id=first.pk, owner=lease_owner(first.pk))
    assert sync_unit_execute(run_id=second.pk) == "skipped"
    second.refresh_from_db()
    assert second.status == SyncRun.Status.SKIPPED and second.skipped_for_id == first.pk
    assert not Tag.objects.exists()


def test_only_one_of_two_claims_wins_the_lease(db, location):
    _, (one,) = location_plan(location, kinds=["tags"])
    _, (two,) = location_plan(location, kinds=["tags"])
    assert lease_claim(location_id=location.pk, kind="tags", run_id=one.pk, owner="a")
    assert not lease_claim(location_id=location.pk, kind="tags", run_id=two.pk, owner="b")
    assert SyncLease.objects.get(location=location, kind="tags").owner == "a"


def test_a_run_whose_worker_died_is_taken_over_after_its_lease_expires(hl, location):
    _, (dead,) = location_plan(location, kinds=["tags"])
    assert lease_claim(location_id=location.pk, kind="tags", run_id=dead.pk, owner="dead-worker")
    SyncRun.objects.filter(pk=dead.pk).update(status=SyncRun.Status.RUNNING, started_at=timezone.now())
    _, (fresh,) = location_plan(location, kinds=["tags"])
    assert sync_unit_execute(run_id=fresh.pk) == "skipped"  # the lease is still live
    _, (later,) = location_plan(location, kinds=["tags"])
    with time_machine.travel(timezone.now() + LEASE + timedelta(seconds=1)):
        assert sync_unit_execute(run_id=later.pk) == "succeeded"
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED and f"#{later.pk} took over" in dead.error
    assert Tag.objects.filter(location=location).count() == len(hl.tags(location.location_id))


def test_a_rate_limited_unit_waits_in_a_one_off_schedule_instead_of_holding_a_worker(hl, location, monkeypatch):
    def limited(*args, **kwargs):
        raise RateLimited("bucket full", wait=42.0)

    from integrations.highlevel.client import HighLevelClient

    monkeypatch.setattr(HighLevelClient, "iter_tags", limited)
    before = timezone.now()
    run = refresh_location_enqueue(location, kinds=["tags"])
    after = timezone.now()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.WAITING
    # Bounded by the clock read on either side of the call, not by a second reading after it.
    assert before + timedelta(seconds=42) <= run.next_attempt_at <= after + timedelta(seconds=60)
    retry = Schedule.objects.get(name__startswith=f"tagscope.sync.retry.run-{run.pk}.")
    assert retry.schedule_type == Schedule.ONCE and retry.func == "integrations.tasks.sync_unit"
    assert not SyncLease.objects.filter(location=location, kind="tags").exclude(owner="").exists()


def test_a_scheduled_run_backs_off_five_attempts_then_fails_and_raises_sync_failed(hl, location, settings):
    settings.HIGHLEVEL_MAX_RETRIES = 0
    hl.add_fault(path="/accounts$", error_rate=1.0, error_status=502)
    run = refresh_location_enqueue(location, kinds=["accounts"], trigger="schedule")
    delays = []
    for _ in range(10):
        run.refresh_from_db()
        if run.status != SyncRun.Status.WAITING:
            break
        delays.append((run.next_attempt_at - timezone.now()).total_seconds())
        sync_unit_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.FAILED and "ServerError" in run.error
    assert len(delays) == 4 and delays == sorted(delays)  # growing backoff, five attempts in all
    assert Event.objects.filter(type=Event.Type.SYNC_FAILED, subject_id=str(run.pk)).exists()
    hl.clear_faults()
    again = run_retry(run)
    again.refresh_from_db()
    assert again.status == SyncRun.Status.SUCCEEDED and again.retry_of_id == run.pk


def test_revoked_credentials_go_to_the_connection_and_are_not_retried(hl, location, agency):
    hl.revoke_tokens(all=True)
    run = refresh_location_enqueue(location, kinds=["tags"])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.next_attempt_at is None
    agency.refresh_from_db()
    assert agency.status == Connection.Status.NEEDS_RECONNECT
    location.refresh_from_db()
    assert location.last_sync_status == SyncRun.Status.FAILED
    assert not Schedule.objects.filter(name__startswith="tagscope.sync.retry.").exists()


def test_a_bulk_refresh_interleaves_connections_and_reports_like_the_api(hl, agency):
    runs = refresh_all_enqueue()
    assert len(runs) == len(hl.location_ids())
    run = SyncRun.objects.get(pk=runs[0].pk)
    shape = run.as_api_dict()
    assert set(shape) == {"id", "kind", "status", "progress", "attempt", "next_attempt_at", "started_at",
                          "finished_at", "counts", "error"}
    assert shape["status"] == "succeeded" and shape["progress"] == {"done": 3, "total": 3}
    assert shape["counts"]["created"] > 0
    bulk = run.parent
    assert bulk.kind == SyncRun.Kind.ALL and bulk.status == SyncRun.Status.SUCCEEDED
    assert bulk.progress_done == bulk.progress_total == len(runs)


def test_schedules_are_kept_idempotently_by_name(agency):
    ensure_schedules()
    ensure_schedules()
    names = {schedule_name(agency.pk, kind): minutes for kind, minutes in
             (("tags", 15), ("statistics", 60), ("accounts", 1440))}
    for name, minutes in names.items():
        assert Schedule.objects.filter(name=name).count() == 1
        assert Schedule.objects.get(name=name).minutes == minutes
    Connection.objects.filter(pk=agency.pk).update(status=Connection.Status.DISCONNECTED)
    ensure_schedules()
    assert not Schedule.objects.filter(name__in=list(names)).exists()


def test_a_changed_frequency_counts_from_the_last_run(agency):
    ensure_schedules()
    tags = Schedule.objects.get(name=schedule_name(agency.pk, "tags"))
    last_run = timezone.now() - timedelta(minutes=2)
    Schedule.objects.filter(pk=tags.pk).update(next_run=last_run + timedelta(minutes=15))
    set_frequency = partial(connection_sync_frequency_set, connection=agency, statistics_every_minutes=60,
                            accounts_every_minutes=1440)
    set_frequency(tags_every_minutes=1)
    assert Schedule.objects.get(pk=tags.pk).next_run == last_run + timedelta(minutes=1)  # due now, not in 13 min
    set_frequency(tags_every_minutes=30)
    assert Schedule.objects.get(pk=tags.pk).next_run == last_run + timedelta(minutes=30)
    stats = Schedule.objects.get(name=schedule_name(agency.pk, "statistics"))
    set_frequency(tags_every_minutes=30)  # nothing changed: nothing moves
    assert Schedule.objects.get(pk=stats.pk).next_run == stats.next_run
    assert Schedule.objects.get(pk=tags.pk).next_run == last_run + timedelta(minutes=30)


def test_a_new_connection_has_its_schedules_at_once_and_due_now(agency):
    # No ensure_schedules() here: connecting and discovering the locations made them.
    for kind in ("tags", "statistics", "accounts"):
        schedule = Schedule.objects.get(name=schedule_name(agency.pk, kind))
        assert schedule.next_run <= timezone.now()  # the first refresh starts at the scheduler's next tick


def test_a_scheduled_connection_refresh_enqueues_one_unit_per_location(hl, agency):
    from integrations.tasks import sync_connection

    assert sync_connection(agency.pk, "accounts") == len(hl.location_ids())
    units = SyncRun.objects.filter(kind="accounts", trigger="schedule")
    assert units.count() == len(hl.location_ids())
    assert set(units.values_list("status", flat=True)) == {SyncRun.Status.SUCCEEDED}


def test_a_bulk_refresh_is_running_as_soon_as_its_first_unit_is(db, location):
    bulk, (per_location,), units = bulk_plan([location], kind=SyncRun.Kind.ALL)
    run_start(units[0], worker="w1")
    assert {SyncRun.objects.get(pk=r.pk).status for r in (bulk, per_location)} == {SyncRun.Status.RUNNING}


def test_a_small_agency_is_in_the_first_round_of_a_big_agencys_refresh(db):
    # A bulk refresh of 40 locations of one agency and 1 of another: the workers take the first batches at
    # once, and the small agency's location is in them, however many the big one has.
    big = Connection.objects.create(name="Big", kind=Connection.Kind.OAUTH_AGENCY, company_id="BIG")
    small = Connection.objects.create(name="Small", kind=Connection.Kind.OAUTH_AGENCY, company_id="SMALL")
    for n in range(40):
        Location.objects.create(location_id=f"big{n:02d}", connection=big, name=f"Big {n:02d}")
    Location.objects.create(location_id="small0", connection=small, name="Small 0")
    _, _, units = bulk_plan(locations_interleaved(), kind=SyncRun.Kind.ALL)
    batches = batches_plan([u.pk for u in units], per_task=8, workers=2)
    first_round = {pk for batch in batches[:2] for pk in batch}
    small_units = [u.pk for u in units if u.location.connection_id == small.pk]
    assert len(batches) == 16 and small_units[0] in first_round
