"""The run lifecycle's rules (integrations/sync/runs.py): each status change only from the states its
transition names, the failure policy reading `exc.retryable`, and a parent following its units."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import utils as db_errors
from django.utils import timezone

from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.errors import BadResponse, HighLevelError, QuotaExhausted, RateLimited
from integrations.models import SyncRun
from integrations.sync import runs
from integrations.sync.runs import TRANSITIONS, bulk_plan, location_plan, run_cancel, run_start, run_wait
from integrations.sync.services import refresh_location_enqueue, sync_unit_execute

S = SyncRun.Status


def test_every_transition_names_its_from_states_and_finishes_only_live_runs():
    for name, (sources, target) in TRANSITIONS.items():
        assert sources and target in S.values, name
        assert not set(sources) & set(SyncRun.FINISHED), f"{name} would move a finished run"


def test_a_cancelled_unit_is_never_started_by_the_worker_that_picks_it_up(hl, location, admin_user):
    _, (unit,) = location_plan(location, kinds=["tags"])
    assert run_cancel(run=unit, actor=admin_user) == 1
    assert sync_unit_execute(run_id=unit.pk) == "nothing to do"
    unit.refresh_from_db()
    assert unit.status == S.SKIPPED and unit.attempts == 0 and unit.error == "Cancelled by admin@example.com"


def test_a_running_unit_cannot_be_cancelled_and_a_finished_one_not_moved(db, location, admin_user):
    _, (unit,) = location_plan(location, kinds=["tags"])
    assert run_start(unit, worker="w1")
    assert run_cancel(run=unit, actor=admin_user) == 0
    runs.run_finish(unit, status=S.SUCCEEDED)
    assert not run_start(unit, worker="w2")
    assert not run_wait(unit, until=timezone.now(), error="late")
    runs.run_finish(unit, status=S.FAILED, error="a second finish")
    unit.refresh_from_db()
    assert unit.status == S.SUCCEEDED and unit.error == "" and unit.worker == "w1"


@pytest.mark.parametrize(("error", "waits"), [
    (HighLevelError("odd but retryable", status=599, retryable=True), True),  # any type: its flag decides
    (BadResponse("a listing that could not be completed", retryable=True), True),
    (BadResponse("unreadable answer to a request that is not idempotent", retryable=False), False),
    (HighLevelError("a 4xx of no known kind", status=418), False),
    (RuntimeError("a bug of ours"), False),
    # The database busy for a while: a worker's threads held every pooled connection, SQLite's lock held on.
    (db_errors.OperationalError("couldn't get a connection after 30.00 sec"), True),
    (db_errors.OperationalError("database is locked"), True),
    (db_errors.InterfaceError("connection already closed"), True),
    (db_errors.IntegrityError("UNIQUE constraint failed: a bug of ours"), False),
])
def test_the_failure_policy_reads_the_errors_retryable_flag(hl, location, monkeypatch, error, waits):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(HighLevelClient, "iter_tags", fail)
    run = refresh_location_enqueue(location, kinds=["tags"], trigger="schedule")
    run.refresh_from_db()
    assert run.status == (S.WAITING if waits else S.FAILED), run.error
    assert str(error) in run.error


def test_a_spent_quota_waits_for_a_scheduled_run_and_fails_an_on_demand_one_at_once(hl, location, monkeypatch):
    def spent(*args, **kwargs):
        raise QuotaExhausted("daily quota exhausted", status=429, wait=3600.0)

    monkeypatch.setattr(HighLevelClient, "iter_tags", spent)
    scheduled = refresh_location_enqueue(location, kinds=["tags"], trigger="schedule")
    scheduled.refresh_from_db()
    assert scheduled.status == S.WAITING and scheduled.next_attempt_at > timezone.now() + timedelta(minutes=59)
    SyncRun.objects.filter(pk=scheduled.pk).update(status=S.SKIPPED)  # out of the way of the lease
    asked = refresh_location_enqueue(location, kinds=["tags"])
    asked.refresh_from_db()
    assert asked.status == S.FAILED and "QuotaExhausted: daily quota exhausted status=429" in asked.error


def test_a_bulk_run_waits_with_its_soonest_unit_and_runs_while_one_runs(db, location):
    bulk, (per_location,), units = bulk_plan([location], kind=SyncRun.Kind.ALL)
    soon, later = timezone.now() + timedelta(seconds=20), timezone.now() + timedelta(seconds=40)
    for unit, until in zip(units[:2], (later, soon), strict=True):
        run_start(unit, worker="w1")
        run_wait(unit, until=until, error=f"will try again: ServerError: {unit.kind} down")
    run_start(units[2], worker="w1")
    assert {SyncRun.objects.get(pk=r.pk).status for r in (bulk, per_location)} == {S.RUNNING}
    run_wait(units[2], until=later, error="will try again: ServerError: statistics down")
    for run in (per_location, bulk):
        run.refresh_from_db()
        assert run.status == S.WAITING and run.next_attempt_at == soon and run.attempts == 1
    assert per_location.error == f"{units[1].kind}: will try again: ServerError: {units[1].kind} down"
    assert bulk.error == f"{location.name}: {per_location.error}"
    run_start(units[1], worker="w2")
    for run in (per_location, bulk):
        run.refresh_from_db()
        assert run.status == S.RUNNING and run.next_attempt_at is None


@pytest.mark.parametrize(("error", "level"), [
    (db_errors.OperationalError("database is locked"), "WARNING"),  # a fault: why a later success took longer
    (RateLimited("slow down", status=429, wait=5.0), "INFO"),  # HighLevel pacing us
])
def test_a_failed_attempt_that_will_be_tried_again_is_logged_because_success_clears_its_error(
        hl, location, monkeypatch, caplog, error, level):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(HighLevelClient, "iter_tags", fail)
    with caplog.at_level("INFO", logger="integrations.sync.runs"):
        run = refresh_location_enqueue(location, kinds=["tags"], trigger="schedule")
    run.refresh_from_db()
    assert run.status == S.WAITING
    (record,) = [r for r in caplog.records if "trying again" in r.getMessage()]
    assert record.levelname == level
    assert f"sync run {run.pk} (tags, location {location.pk}) attempt 1 failed" in record.getMessage()
    assert str(error) in record.getMessage()
