"""A unit whose broker message was lost is handed out again by the sweep and finishes; nothing is done
twice; spent one-off retry schedules do not pile up."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule

from integrations.models import SyncRun, Tag
from integrations.sync.locks import lease_claim
from integrations.sync.runs import location_plan, run_start
from integrations.sync.sweep import lost_unit_ids, sync_runs_sweep


def _unit(location, kind="tags") -> SyncRun:
    """A unit as the UI makes it, but whose broker message never arrives."""
    _, (unit,) = location_plan(location, kinds=[kind], trigger="test")
    return unit


def test_a_queued_unit_whose_message_was_lost_runs_after_the_sweep(hl, location):
    unit = _unit(location)
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert lost_unit_ids() == []  # the message may still be on its way
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert sync_runs_sweep()["enqueued"] == 1  # tasks run in-process in the suite
    unit.refresh_from_db()
    assert unit.status == SyncRun.Status.SUCCEEDED, unit.error
    assert Tag.objects.filter(location=location).count() == len(hl.tags(location.location_id))
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        assert lost_unit_ids() == []  # finished: never handed out again


@pytest.fixture
def busy_broker():
    broker = get_broker()
    broker.enqueue("not a task: only makes the queue non-empty")
    yield broker
    broker.purge_queue()


def test_while_the_broker_holds_messages_a_queued_unit_is_taken_as_lost_only_much_later(location, busy_broker):
    unit = _unit(location)
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        assert lost_unit_ids() == []  # a backlog, not a loss
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        assert lost_unit_ids() == [unit.pk]


def test_a_running_unit_whose_worker_died_is_handed_out_and_finished(hl, location):
    unit = _unit(location)
    assert lease_claim(location_id=location.pk, kind="tags", run_id=unit.pk, owner="a worker that dies")
    run_start(unit, worker="a worker that dies")
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert lost_unit_ids() == []  # its lease is live
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert sync_runs_sweep()["enqueued"] == 1
    unit.refresh_from_db()
    assert unit.status == SyncRun.Status.SUCCEEDED, unit.error
    assert Tag.objects.filter(location=location).count() == len(hl.tags(location.location_id))


def test_a_waiting_unit_whose_retry_schedule_is_gone_is_handed_out(hl, location):
    unit = _unit(location)
    SyncRun.objects.filter(pk=unit.pk).update(status=SyncRun.Status.WAITING,
                                              next_attempt_at=timezone.now() + timedelta(minutes=1))
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert lost_unit_ids() == []  # its schedule may just be late
    with time_machine.travel(timezone.now() + timedelta(minutes=12)):
        sync_runs_sweep()
    unit.refresh_from_db()
    assert unit.status == SyncRun.Status.SUCCEEDED, unit.error


def test_spent_one_off_retry_schedules_are_deleted_and_pending_ones_kept(db):
    def once(name: str, repeats: int) -> Schedule:
        return Schedule.objects.create(name=name, func="integrations.tasks.sync_unit", args="(1,)",
                                       schedule_type=Schedule.ONCE, repeats=repeats, next_run=timezone.now())

    once("tagscope.sync.retry.run-1.100", 0)
    pending = once("tagscope.sync.retry.run-2.200", -1)
    other = once("someone-elses-once", 0)
    assert sync_runs_sweep()["schedules_deleted"] == 1
    assert set(Schedule.objects.filter(schedule_type=Schedule.ONCE)) == {pending, other}
