"""A worker's batch takes the next queued unit of its bulk run when one of its own ends, so its threads do
not idle while its slowest, rate-bound unit finishes; the unit's own task then finds it done. Only units no
worker has started are taken, in the planned order, and only for SYNC_TAKE_QUEUED_SECONDS."""

from __future__ import annotations

import threading

import pytest

from integrations.models import Location, SyncRun
from integrations.sync import services
from integrations.sync.runs import bulk_plan, bulk_roots, location_plan, queued_units_next, run_finish
from integrations.sync.services import units_execute
from tests.faults.checks import mirror_differences

pytestmark = pytest.mark.django_db(transaction=True)
Kind, Status = SyncRun.Kind, SyncRun.Status


@pytest.fixture
def threads_on(settings):
    settings.SYNC_THREADS = True
    settings.SYNC_REQUEST_LANES = 2
    settings.SYNC_TAKE_QUEUED_SECONDS = 300


def _locations(count: int) -> list[Location]:
    first = Location.objects.count()
    return [Location.objects.create(location_id=f"loc{n:02d}", name=f"Location {n:02d}")
            for n in range(first, first + count)]


def _finished_by_fake(run_id: int) -> str:
    run_finish(SyncRun.objects.get(pk=run_id), status=Status.SUCCEEDED)
    return "succeeded"


def test_queued_units_come_in_the_planned_order_and_only_those_no_worker_has_started(db):
    bulk, _, units = bulk_plan(_locations(3), kind=Kind.ALL)
    _, _, others = bulk_plan(_locations(1), kind=Kind.ALL)  # another bulk run's units are not taken
    assert bulk_roots([units[0].pk, units[4].pk]) == {bulk.pk}
    order = [u.pk for u in units]  # every location's accounts, then statistics (the longest), then tags
    assert [SyncRun.objects.get(pk=pk).kind for pk in order] == ["accounts"] * 3 + ["statistics"] * 3 + ["tags"] * 3
    assert queued_units_next({bulk.pk}, limit=20) == order
    SyncRun.objects.filter(pk=order[0]).update(status=Status.RUNNING)
    SyncRun.objects.filter(pk=order[1]).update(status=Status.WAITING)  # backing off: its retry is scheduled
    SyncRun.objects.filter(pk=order[2]).update(status=Status.SUCCEEDED)
    assert queued_units_next({bulk.pk}, limit=2, exclude={order[3]}) == order[4:6]
    assert queued_units_next({bulk.pk}, limit=0) == []
    assert queued_units_next(set(), limit=5) == []
    assert not set(queued_units_next({bulk.pk}, limit=20)) & {u.pk for u in others}


def test_a_lone_unit_and_a_locations_own_units_have_their_roots(db):
    lone = location_plan(_locations(1)[0], kinds=["tags"])[1][0]
    assert bulk_roots([lone.pk]) == set()
    top, units = location_plan(Location.objects.get(), kinds=None)
    assert bulk_roots([units[0].pk]) == {top.pk}


def test_a_batch_takes_the_bulks_queued_units_while_its_slow_unit_runs(threads_on, monkeypatch):
    _, _, units = bulk_plan(_locations(5), kind=Kind.ALL, kinds=["tags"])
    slow, batch = units[0], [units[0].pk, units[1].pk]
    others = {u.pk for u in units[1:]}
    done: list[int] = []
    all_others_done = threading.Event()

    def execute(*, run_id: int) -> str:
        # The slow unit ends only once every other unit of the bulk has run: without taking queued units,
        # the batch's second thread would have run its own unit only, and this would time out.
        if run_id == slow.pk:
            assert all_others_done.wait(timeout=10), "the batch did not take the queued units"
        outcome = _finished_by_fake(run_id)
        done.append(run_id)
        if others <= set(done):
            all_others_done.set()
        return outcome

    monkeypatch.setattr(services, "sync_unit_execute", execute)
    outcomes = units_execute(run_ids=batch, take_queued=True)
    assert outcomes == {"succeeded": 5, "taken from the queue": 3}
    assert sorted(done) == sorted(u.pk for u in units)  # each once
    assert done[-1] == slow.pk


def test_past_its_time_a_batch_runs_only_its_own_units(threads_on, monkeypatch, settings):
    _, _, units = bulk_plan(_locations(4), kind=Kind.ALL, kinds=["tags"])
    now = [0.0]
    done: list[int] = []

    def execute(*, run_id: int) -> str:
        now[0] = settings.SYNC_TAKE_QUEUED_SECONDS  # the first unit to end does so when the time is up
        done.append(run_id)
        return _finished_by_fake(run_id)

    monkeypatch.setattr(services, "sync_unit_execute", execute)
    assert units_execute(run_ids=[units[0].pk, units[1].pk], take_queued=True, clock=lambda: now[0]) == {
        "succeeded": 2}
    assert sorted(done) == [units[0].pk, units[1].pk]
    assert set(SyncRun.objects.filter(pk__in=[units[2].pk, units[3].pk]).values_list("status", flat=True)) == {
        Status.QUEUED}


def test_without_being_asked_a_batch_runs_only_its_own_units(threads_on, monkeypatch):
    _, _, units = bulk_plan(_locations(3), kind=Kind.ALL, kinds=["tags"])
    monkeypatch.setattr(services, "sync_unit_execute", lambda *, run_id: _finished_by_fake(run_id))
    assert units_execute(run_ids=[units[0].pk, units[1].pk]) == {"succeeded": 2}
    assert SyncRun.objects.get(pk=units[2].pk).status == Status.QUEUED


def test_taken_units_sync_for_real_and_their_own_task_finds_nothing_to_do(hl, agency, threads_on):
    hl.add_fault(latency_ms=20)
    locations = list(Location.objects.filter(connection=agency).order_by("location_id")[:3])
    bulk, _, units = bulk_plan(locations, kind=Kind.ALL, kinds=["accounts", "tags"])
    first, second = [u.pk for u in units[0::2]], [u.pk for u in units[1::2]]  # two batches, as planned
    outcomes = units_execute(run_ids=first, take_queued=True)
    assert outcomes["succeeded"] == len(units) and outcomes["taken from the queue"] == len(second)
    # The second batch's task comes later: every unit of it is done already.
    assert units_execute(run_ids=second, take_queued=True) == {"nothing to do": len(second)}
    assert set(SyncRun.objects.filter(pk__in=[u.pk for u in units]).values_list("status", flat=True)) == {
        Status.SUCCEEDED}
    bulk.refresh_from_db()
    assert bulk.status == Status.SUCCEEDED
    for location in locations:
        assert [d for d in mirror_differences(hl, location) if "statistic" not in d] == []


def test_two_batches_taking_at_once_run_every_unit_exactly_once(hl, agency, threads_on):
    hl.add_fault(latency_ms=20)
    locations = list(Location.objects.filter(connection=agency).order_by("location_id"))
    _, _, units = bulk_plan(locations, kind=Kind.ALL, kinds=["accounts", "tags"])
    batches = [[u.pk for u in units[0:2]], [u.pk for u in units[2:4]]]
    results: list[dict] = []
    threads = [threading.Thread(target=lambda b=b: results.append(units_execute(run_ids=b, take_queued=True)))
               for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.get("succeeded", 0) for r in results) == len(units)
    runs = SyncRun.objects.filter(pk__in=[u.pk for u in units])
    assert {(r.status, r.attempts) for r in runs} == {(Status.SUCCEEDED, 1)}
