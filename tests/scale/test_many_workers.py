"""Scale-out (docs/architecture.md): several real qcluster processes on PostgreSQL and Redis refresh
every location, enqueued twice at once. No location's refresh of one kind ever runs twice at the same time,
the sandbox never sees more than its burst limit from one location in any window, and the mirror equals the
sandbox afterwards."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from dashboard.devtools.demo import sandbox_agency_connect
from integrations.models import Location, SyncRun
from integrations.sync.services import refresh_all_enqueue
from tests.faults.checks import duplicates, mirror_differences
from tests.scale.workers import qclusters

CLUSTERS = 3
WORKERS_PER_CLUSTER = 2
LOCATIONS = 6
TAGS = 250
BURST = 5  # requests per location in any window: small, so the limit binds
WINDOW_SECONDS = 4
DEADLINE_SECONDS = 90
KINDS = ("accounts", "tags", "statistics")

pytestmark = pytest.mark.django_db(transaction=True)


def needs_scale_services() -> None:
    if db_connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("scale-out needs PostgreSQL and Redis (DATABASE_URL=postgres://..., REDIS_URL=redis://...); "
                    f"this run has {db_connection.vendor} and REDIS_URL={settings.REDIS_URL or 'unset'}")


def overlaps(runs: list[SyncRun]) -> list[str]:
    """Runs of the same location and kind that did work (attempted) whose [started, finished] intersect."""
    found = []
    by_unit: dict[tuple[int, str], list[SyncRun]] = {}
    for run in runs:
        if run.attempts:
            by_unit.setdefault((run.location_id, run.kind), []).append(run)
    for (location_id, kind), group in by_unit.items():
        group.sort(key=lambda r: r.started_at)
        for before, after in pairwise(group):
            if after.started_at < before.finished_at:
                found.append(f"location {location_id} {kind}: run {before.pk} and run {after.pk}")
    return found


def wait_until_finished(deadline_seconds: float) -> list[SyncRun]:
    deadline = time.monotonic() + deadline_seconds
    while True:
        units = list(SyncRun.objects.filter(kind__in=SyncRun.UNIT_KINDS))
        if units and all(u.is_finished for u in units):
            return units
        if time.monotonic() > deadline:
            pending = [(u.pk, u.kind, u.status, u.error[:80]) for u in units if not u.is_finished]
            raise AssertionError(f"runs still unfinished after {deadline_seconds}s: {pending[:10]}")
        time.sleep(0.2)  # polling the workers' progress in the database, not waiting for time to pass


def test_three_qclusters_refreshing_everything_twice_at_once(hl, settings):
    needs_scale_services()
    # Small batches (a production enqueue makes one per worker), so the units spread over every cluster and
    # the two enqueues' batches meet in different processes.
    settings.SYNC_UNITS_PER_TASK = 3
    hl.reset(locations=LOCATIONS, tags=TAGS, days=30, burst_limit=BURST, burst_window_ms=WINDOW_SECONDS * 1000)
    sandbox_agency_connect(hl, redirect_uri="http://testserver/connections/oauth/callback/")
    locations = list(Location.objects.order_by("location_id"))
    assert len(locations) == LOCATIONS
    for location in locations:  # the sandbox builds a location's data on first touch, under its lock: not mid-test
        hl.tags(location.location_id)
    hl.reset_stats()
    started = time.monotonic()
    enqueued_at = timezone.now()
    env = {"TAGSCOPE_TEST_BURST_LIMIT": str(BURST), "TAGSCOPE_TEST_BURST_WINDOW_SECONDS": str(WINDOW_SECONDS),
           "TAGSCOPE_TEST_STATISTICS_DAYS": "30",
           # No one-day statistics requests: at 5 requests per window a week of them takes minutes, and
           # they are covered elsewhere; this test is about workers, leases and the shared limit.
           "TAGSCOPE_TEST_BREAKDOWN_DAYS": "0",
           # The two enqueues are the load under test; the new connection's schedules (due at once) would add
           # a third, unsynchronised one and make the count of units depend on the scheduler's tick.
           "TAGSCOPE_TEST_SCHEDULER": "false"}
    with qclusters(CLUSTERS, workers=WORKERS_PER_CLUSTER, **env):
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def enqueue() -> None:
            try:
                barrier.wait()
                refresh_all_enqueue(trigger="command", kinds=KINDS)
            except BaseException as exc:  # asserted below
                errors.append(exc)
            finally:
                db_connection.close()

        threads = [threading.Thread(target=enqueue) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        units = wait_until_finished(DEADLINE_SECONDS)
    elapsed = time.monotonic() - started
    worked = [u for u in units if u.attempts]
    first = (min(u.started_at for u in worked) - enqueued_at).total_seconds()
    span = (max(u.finished_at for u in worked) - min(u.started_at for u in worked)).total_seconds()

    stats = hl.stats()
    by_location = {loc.location_id: stats["resources"].get(loc.location_id, {}) for loc in locations}
    busiest = max(r.get("max_burst", 0) for r in by_location.values())
    statuses = {s: sum(1 for u in units if u.status == s) for s in {u.status for u in units}}
    found = overlaps(units)
    differences = {loc.location_id: mirror_differences(hl, loc) for loc in locations}
    print(f"\nscale-out: {CLUSTERS} qclusters x {WORKERS_PER_CLUSTER} workers, {LOCATIONS} locations x {TAGS} tags, "
          f"enqueued twice at once -> {len(units)} units {statuses} in {elapsed:.1f}s (first start after "
          f"{first:.1f}s, then {span:.1f}s to the last finish); requests "
          f"{stats['requests']['total']}, max per location in any {WINDOW_SECONDS}s window {busiest} (limit {BURST}), "
          f"429s {stats['rate_limited']}, overlaps {len(found)}, "
          f"mirror differences {sum(len(d) for d in differences.values())}, duplicates {duplicates()}")
    assert not found, found
    assert busiest <= BURST, by_location
    assert statuses.get(SyncRun.Status.FAILED, 0) == 0, [(u.pk, u.error) for u in units if u.status == "failed"]
    assert statuses.get(SyncRun.Status.SUCCEEDED, 0) >= LOCATIONS * len(KINDS)
    assert all(not d for d in differences.values()), {k: v[:5] for k, v in differences.items() if v}
    assert duplicates() == 0
    # The work really was spread over several processes.
    assert len({u.worker.split(":")[2] for u in units if u.worker}) >= 3
