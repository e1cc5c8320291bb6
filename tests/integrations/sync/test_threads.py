"""Lanes and batches on real threads (SYNC_THREADS on; a transactional database, so each thread's own
connection sees the test's rows): lanes keep the items' order, stop at the first failure and carry the
caller's log context; a first sync through lanes equals the sandbox and what one lane would store; a
batch's units run side by side."""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest

from dashboard.devtools.demo import sandbox_agency_connect
from integrations import logcontext
from integrations.clients.limiters import reset_rate_limiter
from integrations.models import ApiCall, Location, StatisticsPoint, SyncRun
from integrations.sync.lanes import READ_AHEAD, in_lanes
from integrations.sync.runs import location_plan
from integrations.sync.services import units_execute
from tests.faults.checks import mirror_differences

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def threads_on(settings):
    settings.SYNC_THREADS = True
    settings.SYNC_REQUEST_LANES = 4


def test_lanes_fetch_side_by_side_and_yield_in_order(threads_on):
    # Four fetches that each wait for the other three: done one at a time they could never finish.
    together = threading.Barrier(4, timeout=10)

    def fetch(n: int) -> int:
        together.wait()
        return n * n

    assert list(in_lanes(fetch, range(4), lanes=4)) == [(n, n * n) for n in range(4)]


def test_the_caller_is_woken_for_the_answer_it_waits_for_not_for_those_ahead_of_it(threads_on, monkeypatch):
    # The first item's answer comes last, after the seven behind it landed while the caller waited for it:
    # those seven must not each wake the caller (a futile context switch and turn of the GIL each).
    caller_waits, seven_landed = threading.Event(), threading.Event()
    wakes, landed = [], []

    class Counted(threading.Condition):
        def wait(self, timeout=None):
            caller_waits.set()
            woken = super().wait(timeout)
            wakes.append(1)
            return woken

        def __exit__(self, *exc):
            if threading.current_thread().name.startswith("sync-lane-"):
                landed.append(1)
                if len(landed) == 7:
                    seven_landed.set()
            return super().__exit__(*exc)

    made = threading.Condition

    def condition(lock=None):  # in_lanes' own condition only: threading's Events make theirs with a lock
        return Counted() if lock is None else made(lock)

    def fetch(n: int) -> int:
        assert (seven_landed if n == 0 else caller_waits).wait(10)
        return n

    monkeypatch.setattr("integrations.sync.lanes.threading.Condition", condition)
    assert [n for n, _ in in_lanes(fetch, range(8), lanes=8)] == list(range(8))
    assert len(wakes) == 1


def test_lanes_fetch_no_further_ahead_than_the_caller_stores(threads_on):
    fetched: list[int] = []
    changed = threading.Condition()

    def fetch(n: int) -> int:
        with changed:
            fetched.append(n)
            changed.notify_all()
        return n

    bound = READ_AHEAD * 4
    for item, _ in in_lanes(fetch, range(100), lanes=4):
        with changed:  # the caller is slow: the lanes fetch all they may meanwhile, and no more
            changed.wait_for(lambda item=item: len(fetched) >= min(100, item + 1 + bound), timeout=10)
            assert len(fetched) <= item + 1 + bound
    assert sorted(fetched) == list(range(100))


@pytest.mark.parametrize("threads", [True, False])
def test_lanes_read_their_items_lazily_in_the_callers_thread(threads_on, settings, threads):
    """The items may come from the database a batch at a time (a location's due tag details): taken no
    further ahead than the answers may wait, and in the caller's thread, whose connection sees its rows."""
    settings.SYNC_THREADS = threads
    caller = threading.current_thread()
    taken: list[int] = []

    def items():
        for n in range(100):
            assert threading.current_thread() is caller
            taken.append(n)
            yield n

    bound = READ_AHEAD * 4 if threads else 0
    for item, answer in in_lanes(lambda n: n * 2, items(), lanes=4):
        assert answer == item * 2
        assert len(taken) <= item + 1 + bound  # what is yielded and what may wait beyond it
    assert taken == list(range(100))


def test_lanes_raise_the_first_failure_after_the_items_before_it(threads_on):
    def fetch(n: int) -> int:
        if n == 3:
            raise ValueError("no three")
        return n

    seen = []
    with pytest.raises(ValueError, match="no three"):
        for item, _ in in_lanes(fetch, range(12), lanes=3):
            seen.append(item)
    assert seen == [0, 1, 2]
    assert not [t for t in threading.enumerate() if t.name.startswith("sync-lane")]  # every lane ended


def test_a_lane_carries_the_callers_run_id(threads_on):
    with logcontext.bound(logcontext.run_id, "77"):
        seen = [value for _, value in in_lanes(
            lambda n: (logcontext.run_id.get(), threading.current_thread().name), range(3), lanes=3)]
    assert {run_id for run_id, _ in seen} == {"77"}
    assert all(name.startswith("sync-lane") for _, name in seen)


def test_without_threads_one_lane_works_in_the_callers_thread(settings):
    settings.SYNC_THREADS = False
    names = [name for _, name in in_lanes(lambda n: threading.current_thread().name, range(3), lanes=4)]
    assert set(names) == {threading.current_thread().name}


def test_a_first_sync_in_lanes_equals_the_sandbox_and_what_one_lane_stores(hl, agency, threads_on, settings):
    location = Location.objects.filter(connection=agency).order_by("location_id").first()
    hl.add_fault(latency_ms=20)
    _, units = location_plan(location)
    assert units_execute(run_ids=[u.pk for u in units]) == {"succeeded": 3}
    assert mirror_differences(hl, location) == []
    stats = SyncRun.objects.get(pk=next(u.pk for u in units if u.kind == "statistics"))
    assert StatisticsPoint.objects.filter(location=location).count() > 0
    # The lanes really overlapped: some of the unit's requests were in flight at the same time.
    spans = sorted((c.at.timestamp(), c.at.timestamp() + c.latency_ms / 1000)
                   for c in ApiCall.objects.filter(run_id=stats.pk))
    assert any(later_start < earlier_end for (_, earlier_end), (later_start, _) in pairwise(spans))
    # One lane, in this thread, finds nothing to add or change: no day was missed or stored differently.
    settings.SYNC_THREADS = False
    _, again = location_plan(location)
    assert units_execute(run_ids=[u.pk for u in again]) == {"succeeded": 3}
    assert sum(SyncRun.objects.get(pk=u.pk).counts["rows_written"] for u in again) == 0


def test_a_batch_runs_its_units_side_by_side(hl, agency, threads_on):
    hl.add_fault(latency_ms=100)
    locations = list(Location.objects.filter(connection=agency).order_by("location_id")[:3])
    units = [location_plan(loc, kinds=["statistics"])[1][0] for loc in locations]
    assert units_execute(run_ids=[u.pk for u in units]) == {"succeeded": 3}
    runs = list(SyncRun.objects.filter(pk__in=[u.pk for u in units]))
    assert max(r.started_at for r in runs) < min(r.finished_at for r in runs)  # all three ran at one moment
    assert len({r.worker for r in runs}) == 3  # each under its own lease owner


def test_a_locations_tags_are_not_queued_behind_its_statistics_backfill(hl, threads_on, settings):
    # A small limit that binds (10 requests a second), a statistics backfill of two weeks of one-day
    # requests, and the same location's tags refresh beside it: the tags take the slots they wait for.
    hl.reset(locations=1, tags=150, days=30, burst_limit=10, burst_window_ms=1000)
    settings.HIGHLEVEL_BURST_LIMIT, settings.HIGHLEVEL_BURST_WINDOW_SECONDS = 10, 1.0
    settings.SYNC_STATISTICS_HORIZON_DAYS, settings.SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS = 30, 14
    reset_rate_limiter()
    connection = sandbox_agency_connect(hl, redirect_uri="http://testserver/connections/oauth/callback/")
    location = Location.objects.get(connection=connection)
    _, (accounts,) = location_plan(location, kinds=["accounts"])
    units_execute(run_ids=[accounts.pk])
    units = [location_plan(location, kinds=[kind])[1][0] for kind in ("statistics", "tags")]
    assert units_execute(run_ids=[u.pk for u in units]) == {"succeeded": 2}
    statistics, tags = (SyncRun.objects.get(pk=u.pk) for u in units)
    took = {run.kind: (run.finished_at - run.started_at).total_seconds() for run in (statistics, tags)}
    requests = {run.kind: ApiCall.objects.filter(run_id=run.pk).count() for run in (statistics, tags)}
    print(f"\nbeside a backfill: {took} s, {requests} requests")
    assert requests["statistics"] > 5 * requests["tags"]
    # At the limit the backfill takes its requests' worth of seconds; the tags a fraction of that, not
    # their share of the slots among the backfill's lanes.
    assert took["tags"] < took["statistics"] / 3


def test_the_statistics_lanes_start_before_the_first_answer_is_stored(hl, agency, threads_on, monkeypatch):
    # Storing the first (probe) answer may wait for other locations' writes; the location's rate limit must
    # not go unused meanwhile: the lanes are already asking when it is stored.
    from integrations.highlevel.client import HighLevelClient
    from integrations.sync import statistics

    location = Location.objects.filter(connection=agency).order_by("location_id").first()
    _, (accounts,) = location_plan(location, kinds=["accounts"])
    units_execute(run_ids=[accounts.pk])
    answered: list[int] = []
    answered_when_stored: list[int] = []
    real_get, real_store = HighLevelClient.get_statistics, statistics.answer_store

    def get_statistics(self, *args, **kwargs):
        answers = real_get(self, *args, **kwargs)
        answered.append(1)
        return answers

    def answer_store(*args, **kwargs):
        answered_when_stored.append(len(answered))
        return real_store(*args, **kwargs)

    monkeypatch.setattr(HighLevelClient, "get_statistics", get_statistics)
    monkeypatch.setattr(statistics, "answer_store", answer_store)
    _, (unit,) = location_plan(location, kinds=["statistics"])
    assert units_execute(run_ids=[unit.pk]) == {"succeeded": 1}
    assert answered_when_stored[0] >= 2  # the probe's answer, and at least one lane's
    assert StatisticsPoint.objects.filter(location=location).count() > 0
    _, (again,) = location_plan(location, kinds=["statistics"])  # nothing was missed or stored twice
    assert units_execute(run_ids=[again.pk]) == {"succeeded": 1}
    assert SyncRun.objects.get(pk=again.pk).counts["rows_written"] == 0


def test_lanes_open_no_sqlite_connection_of_their_own(hl, agency, threads_on, monkeypatch):
    # A worker runs hundreds of lanes: a connection each (~0.4 MB of schema and caches) was most of its
    # memory. Their statements (the limiter's slots, the token re-read) go through the process's shared ones.
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from integrations.db import shared_sqlite_close

    opened_by: list[str] = []
    real_open = DatabaseWrapper.get_new_connection

    def get_new_connection(self, params):
        opened_by.append(threading.current_thread().name)
        return real_open(self, params)

    monkeypatch.setattr(DatabaseWrapper, "get_new_connection", get_new_connection)
    shared_sqlite_close()
    location = Location.objects.filter(connection=agency).order_by("location_id").first()
    hl.add_fault(latency_ms=20)
    _, units = location_plan(location)
    assert units_execute(run_ids=[u.pk for u in units]) == {"succeeded": 3}
    assert mirror_differences(hl, location) == []
    assert ApiCall.objects.filter(run_id__in=[u.pk for u in units]).count() > 20  # lanes did the asking
    lanes_opened = [name for name in opened_by if name.startswith("sync-lane")]
    assert len(lanes_opened) <= 2  # the shared connections (reads, writes), opened once each
