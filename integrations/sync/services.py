"""What the UI, the commands and the tasks call to refresh the mirror: plan runs (runs.py), hand them to
workers, and execute a unit. Everything about a run's status lives in runs.py.

Enqueue (answer at once with the SyncRun to poll):
- `refresh_location_enqueue(location, kinds=None, actor=None)`: one unit per kind; several kinds get a
  parent run of kind `location` whose progress counts finished units.
- `refresh_connection_enqueue(connection_id=..., kinds=None)` and `refresh_all_enqueue(actor=None)`:
  one run per location, interleaved across connections so no agency's locations all queue first.
- `run_retry(run)`: a failed unit (or the failed units of a bulk run) again, as a new run.

Execute (the worker): `sync_unit_execute(run_id=...)` takes the location-and-kind lease or records the run
as `skipped` (with `skipped_for` = the live run), takes over a run whose worker died, refreshes, and
finishes the run; a failure goes to runs.run_attempt_failed, the one failure policy.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from itertools import zip_longest
from typing import Any

from django.conf import settings
from django.db import connections

from integrations import logcontext
from integrations.clients.recorders import BufferedRecorder
from integrations.connections.tokens import client_for_location
from integrations.db import connections_give_back
from integrations.models import Location, SyncRun
from integrations.sync.accounts import accounts_refresh
from integrations.sync.locks import LeaseLost, lease_claim, lease_holder, lease_owner, lease_release
from integrations.sync.runs import (
    RunContext,
    bulk_plan,
    bulk_roots,
    location_plan,
    queued_units_next,
    retry_plan,
    run_attempt_failed,
    run_finish,
    run_start,
    run_take_over,
)
from integrations.sync.scheduling import enqueue_unit, enqueue_units
from integrations.sync.statistics import statistics_refresh
from integrations.sync.tags import tags_refresh

log = logging.getLogger(__name__)
Kind = SyncRun.Kind
REFRESHERS: dict[str, Callable[[RunContext], None]] = {
    Kind.ACCOUNTS: accounts_refresh, Kind.TAGS: tags_refresh, Kind.STATISTICS: statistics_refresh,
}
WATCH_EVERY_SECONDS = 0.5


# --- planning and enqueueing ---------------------------------------------------------------------------
def refresh_location_enqueue(location: Location, *, kinds: Iterable[str] | None = None, actor: Any = None,
                             trigger: str = "manual") -> SyncRun:
    """Enqueue a refresh of one location; answers the run to poll (`as_api_dict()`) at once."""
    top, units = location_plan(location, kinds=kinds, actor=actor, trigger=trigger)
    enqueue_units([unit.pk for unit in units])
    return top


def locations_interleaved(connection_ids: Iterable[int] | None = None) -> list[Location]:
    """Installed locations of usable connections, round-robin across connections."""
    query = Location.objects.syncable()
    if connection_ids is not None:
        query = query.filter(connection_id__in=list(connection_ids))
    by_connection: dict[int, list[Location]] = {}
    for location in query.order_by("connection_id", "name", "pk"):
        by_connection.setdefault(location.connection_id, []).append(location)
    return [loc for group in zip_longest(*by_connection.values()) for loc in group if loc is not None]


def refresh_connection_enqueue(*, connection_id: int, kinds: Iterable[str] | None = None, actor: Any = None,
                               trigger: str = "manual") -> list[SyncRun]:
    """One run per installed location of the connection (their parent is a `connection` run)."""
    _, runs, units = bulk_plan(locations_interleaved([connection_id]), kind=Kind.CONNECTION,
                               connection_id=connection_id, kinds=kinds, actor=actor, trigger=trigger)
    enqueue_units([unit.pk for unit in units])
    return runs


def refresh_all_enqueue(*, actor: Any = None, kinds: Iterable[str] | None = None,
                        trigger: str = "manual") -> list[SyncRun]:
    """Every location of every usable connection, interleaved across connections (their parent: an `all` run)."""
    _, runs, units = bulk_plan(locations_interleaved(), kind=Kind.ALL, kinds=kinds, actor=actor,
                               trigger=trigger)
    enqueue_units([unit.pk for unit in units])
    return runs


def run_retry(run: SyncRun, *, actor: Any = None) -> SyncRun:
    """Run a failed unit again as a new run (`retry_of` points back); for a bulk run, its failed units."""
    again, units = retry_plan(run, actor=actor)
    if units == [again]:
        enqueue_unit(again.pk)
    else:
        enqueue_units([unit.pk for unit in units])
    again.refresh_from_db()
    return again


# --- executing units -------------------------------------------------------------------------------------
def units_execute(*, run_ids: list[int], watch: Callable[[], None] | None = None,
                  watch_every: float = WATCH_EVERY_SECONDS, take_queued: bool = False,
                  clock: Callable[[], float] = time.monotonic) -> dict[str, int]:
    """Do several units side by side, a thread each (SYNC_THREADS off: one after the other, here); answers
    how many ended how. `watch` is called every `watch_every` seconds meanwhile and once at the end.

    `take_queued` (a worker's batch task): when one of its units ends, a thread takes the next unit of the same
    bulk run that no worker has started, for SYNC_TAKE_QUEUED_SECONDS after the task began. A batch ends with
    its slowest unit, which waits on its location's rate limit; without this the worker's other threads would
    idle meanwhile, round after round of batches. The unit's own task later finds it done ("nothing to do")."""
    outcomes: Counter[str] = Counter()
    if not settings.SYNC_THREADS or len(run_ids) < 2:
        for run_id in run_ids:
            outcomes[sync_unit_execute(run_id=run_id)] += 1
            if watch:
                watch()
        return dict(outcomes)

    def one(run_id: int) -> str:
        try:
            return sync_unit_execute(run_id=run_id)
        finally:
            connections.close_all()  # this thread's own connection

    taking_until = clock() + settings.SYNC_TAKE_QUEUED_SECONDS if take_queued else None
    roots = bulk_roots(run_ids) if taking_until is not None else set()
    taken: set[int] = set(run_ids)
    watched_at = clock()
    with ThreadPoolExecutor(max_workers=len(run_ids), thread_name_prefix="sync-unit") as pool:
        pending = {pool.submit(one, run_id) for run_id in run_ids}
        while pending:
            connections_give_back()  # this thread only watches meanwhile
            finished, pending = wait(pending, timeout=watch_every, return_when=FIRST_COMPLETED)
            for future in finished:
                outcomes[future.result()] += 1
            free = len(run_ids) - len(pending)
            if roots and free and clock() < taking_until:
                more = queued_units_next(roots, limit=free, exclude=taken)
                if more:
                    taken.update(more)
                    outcomes["taken from the queue"] += len(more)
                    pending |= {pool.submit(one, run_id) for run_id in more}
            if watch and (not pending or clock() - watched_at >= watch_every):
                watched_at = clock()
                watch()
    return dict(outcomes)


def sync_unit_execute(*, run_id: int, client: Any = None) -> str:
    """Do one unit (one kind of one location) under its lease; answers what happened, for the task log."""
    # Every log line of the run (the client's per-call lines too) carries its run id.
    with logcontext.bound(logcontext.run_id, str(run_id)):
        return _unit_execute(run_id=run_id, client=client)


def _unit_execute(*, run_id: int, client: Any = None) -> str:
    run = SyncRun.objects.select_related("location").filter(pk=run_id).first()
    if run is None or run.is_finished or run.kind not in SyncRun.UNIT_KINDS or run.location is None:
        return "nothing to do"
    location = run.location
    owner = lease_owner(run.pk)
    before = lease_holder(location_id=location.pk, kind=run.kind)
    if not lease_claim(location_id=location.pk, kind=run.kind, run_id=run.pk, owner=owner):
        holder = lease_holder(location_id=location.pk, kind=run.kind)
        if holder is not None and holder.run_id == run.pk:
            return "already running elsewhere"
        run_finish(run, status=SyncRun.Status.SKIPPED, skipped_for=holder.run if holder else None,
                   error=f"run #{holder.run_id if holder else '?'} of this location's {run.kind} is still going")
        return "skipped"
    ctx: RunContext | None = None
    recorder = BufferedRecorder()
    try:
        run_take_over(stale_run_id=before.run_id if before else None, run=run)
        if not run_start(run, worker=owner):
            return "nothing to do"  # cancelled or finished since it was handed out
        if client is None:
            client = client_for_location(location, run_id=run.pk, recorder=recorder)
        ctx = RunContext(run=run, location=location, owner=owner, client=client, recorder=recorder)
        REFRESHERS[run.kind](ctx)
        recorder.flush()
        run_finish(run, status=SyncRun.Status.SUCCEEDED, ctx=ctx)
        return "succeeded"
    except LeaseLost:
        log.warning("run %s lost its lease to another worker; stopping", run.pk)
        return "lease lost"
    except Exception as exc:  # every failure is recorded on the run; the task itself never fails
        recorder.flush()
        return run_attempt_failed(run, ctx, exc)
    finally:
        recorder.flush()
        lease_release(location_id=location.pk, kind=run.kind, owner=owner)
