"""What the UI, the commands and the tasks call to refresh the mirror.

Enqueue (answer at once with the SyncRun to poll):
- `refresh_location_enqueue(location, kinds=None, actor=None)`: one unit per kind; several kinds get a
  parent run of kind `location` whose progress counts finished units.
- `refresh_connection_enqueue(connection_id=..., kinds=None)` and `refresh_all_enqueue(actor=None)`:
  one run per location, interleaved across connections so no agency's locations all queue first.
- `run_retry(run)`: a failed unit (or the failed units of a bulk run) again, as a new run.

Execute (the worker): `sync_unit_execute(run_id=...)` takes the location-and-kind lease or records the run
as `skipped` (with `skipped_for` = the live run), takes over a run whose worker died, refreshes, and
finishes the run: rate limits and transient failures come back later with backoff (status `waiting`, a
one-off schedule, no worker held); auth failures go to the connection's state and are not retried.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta
from itertools import zip_longest
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

from integrations import logcontext
from integrations.clients.recorders import BufferedRecorder
from integrations.connections.tokens import ConnectionUnusable, client_for_location, connection_mark_needs_reconnect
from integrations.db import connections_give_back
from integrations.highlevel.errors import (
    AuthenticationError,
    BadResponse,
    QuotaExhausted,
    RateLimited,
    ScopeError,
    ServerError,
    TransportError,
)
from integrations.models import Connection, Location, SyncLease, SyncRun
from integrations.sync.accounts import accounts_refresh
from integrations.sync.locks import LeaseLost, lease_claim, lease_holder, lease_owner, lease_release
from integrations.sync.runs import RunContext, run_create, run_finish, run_start, run_wait
from integrations.sync.scheduling import enqueue_unit, enqueue_units
from integrations.sync.statistics import statistics_refresh
from integrations.sync.tags import IncompleteListing, tags_refresh

log = logging.getLogger(__name__)
Kind = SyncRun.Kind
REFRESHERS: dict[str, Callable[[RunContext], None]] = {
    Kind.ACCOUNTS: accounts_refresh, Kind.TAGS: tags_refresh, Kind.STATISTICS: statistics_refresh,
}
DEFAULT_KINDS = (Kind.ACCOUNTS, Kind.TAGS, Kind.STATISTICS)  # accounts first: statistics need profile ids
MAX_ATTEMPTS = 5  # transient failures (5xx, transport, unclean answers); rate-limit waits go on longer
MAX_RATE_WAITS = 50
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 1800
TRANSIENT = (TransportError, ServerError, BadResponse, IncompleteListing)
WATCH_EVERY_SECONDS = 0.5


# --- planning and enqueueing ---------------------------------------------------------------------------
def _kinds(kinds: Iterable[str] | None) -> list[str]:
    wanted = list(dict.fromkeys(kinds or DEFAULT_KINDS))
    unknown = set(wanted) - set(REFRESHERS)
    if unknown:
        raise ValueError(f"unknown sync kinds: {sorted(unknown)}")
    return [k for k in DEFAULT_KINDS if k in wanted]


def location_plan(location: Location, *, kinds: Iterable[str] | None = None, actor: Any = None,
                  trigger: str = "manual", parent: SyncRun | None = None) -> tuple[SyncRun, list[SyncRun]]:
    """Create the runs for a location (queued, not enqueued): (the run to show, its units)."""
    wanted = _kinds(kinds)
    if len(wanted) == 1:
        unit = run_create(kind=wanted[0], location=location, parent=parent, trigger=trigger, actor=actor)
        return unit, [unit]
    top = run_create(kind=Kind.LOCATION, location=location, parent=parent, trigger=trigger, actor=actor)
    SyncRun.objects.filter(pk=top.pk).update(progress_total=len(wanted))
    top.progress_total = len(wanted)
    units = [run_create(kind=k, location=location, parent=top, trigger=trigger, actor=actor) for k in wanted]
    return top, units


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


def bulk_plan(locations: list[Location], *, kind: str, connection_id: int | None = None,
              kinds: Iterable[str] | None = None, actor: Any = None, trigger: str = "manual",
              ) -> tuple[SyncRun | None, list[SyncRun], list[SyncRun]]:
    """(the bulk run, one run per location, every unit in interleaved order)."""
    if not locations:
        return None, [], []
    bulk = run_create(kind=kind, connection_id=connection_id, trigger=trigger, actor=actor)
    SyncRun.objects.filter(pk=bulk.pk).update(progress_total=len(locations))
    plans = [location_plan(loc, kinds=kinds, actor=actor, trigger=trigger, parent=bulk) for loc in locations]
    # Interleave by unit position too: every location's first unit before anyone's second.
    units = [u for group in zip_longest(*(p[1] for p in plans)) for u in group if u is not None]
    return bulk, [p[0] for p in plans], units


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
    _, runs, units = bulk_plan(locations_interleaved(), kind=Kind.ALL, kinds=kinds, actor=actor, trigger=trigger)
    enqueue_units([unit.pk for unit in units])
    return runs


def run_retry(run: SyncRun, *, actor: Any = None) -> SyncRun:
    """Run a failed unit again as a new run (`retry_of` points back); for a bulk run, its failed units."""
    if run.kind in SyncRun.UNIT_KINDS:
        again = run_create(kind=run.kind, location=run.location, trigger="retry", actor=actor, retry_of=run)
        enqueue_unit(again.pk)
        return again
    failed = list(SyncRun.objects.filter(parent__in=[run, *run.children.all()], status=SyncRun.Status.FAILED,
                                         kind__in=SyncRun.UNIT_KINDS))
    again = run_create(kind=run.kind, location=run.location, connection_id=run.connection_id, trigger="retry",
                       actor=actor, retry_of=run)
    SyncRun.objects.filter(pk=again.pk).update(progress_total=len(failed))
    units = [run_create(kind=f.kind, location=f.location, parent=again, trigger="retry", actor=actor, retry_of=f)
             for f in failed]
    if not units:
        run_finish(again, status=SyncRun.Status.SUCCEEDED, error="nothing had failed")
    enqueue_units([unit.pk for unit in units])
    again.refresh_from_db()
    return again


# --- executing units -------------------------------------------------------------------------------------
def units_execute(*, run_ids: list[int], watch: Callable[[], None] | None = None,
                  watch_every: float = WATCH_EVERY_SECONDS) -> dict[str, int]:
    """Do several units side by side, a thread each (SYNC_THREADS off: one after the other, here); answers
    how many ended how. `watch` is called every `watch_every` seconds meanwhile and once at the end."""
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

    with ThreadPoolExecutor(max_workers=len(run_ids), thread_name_prefix="sync-unit") as pool:
        pending = {pool.submit(one, run_id) for run_id in run_ids}
        while pending:
            connections_give_back()  # this thread only watches meanwhile
            finished, pending = wait(pending, timeout=watch_every)
            for future in finished:
                outcomes[future.result()] += 1
            if watch:
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
        _take_over(before, run)
        run_start(run, worker=owner)
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
        return _failed(run, ctx, exc)
    finally:
        recorder.flush()
        lease_release(location_id=location.pk, kind=run.kind, owner=owner)


def _take_over(before: SyncLease | None, run: SyncRun) -> None:
    """The lease we just won had expired: if its run was still marked running, its worker died."""
    if before is None or before.run_id in (None, run.pk):
        return
    stale = SyncRun.objects.filter(pk=before.run_id, status=SyncRun.Status.RUNNING).first()
    if stale is not None:
        run_finish(stale, status=SyncRun.Status.FAILED,
                   error=f"its worker stopped (lease expired); run #{run.pk} took over and did the work")


def _failed(run: SyncRun, ctx: RunContext | None, exc: Exception) -> str:
    trace_id = getattr(exc, "trace_id", None)
    if ctx is not None:
        ctx.trace(trace_id)
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ConnectionUnusable):
        run_finish(run, status=SyncRun.Status.FAILED, ctx=ctx, error=f"connection unusable: {exc}")
        return "failed: connection unusable"
    if isinstance(exc, (AuthenticationError, ScopeError)):
        connection = Connection.objects.filter(pk=run.location.connection_id).first()
        if connection is not None:
            connection_mark_needs_reconnect(connection, reason=f"HighLevel refused the credentials: {exc}")
        run_finish(run, status=SyncRun.Status.FAILED, ctx=ctx, error=message)
        return "failed: needs reconnect"
    run.refresh_from_db(fields=["attempts"])
    if isinstance(exc, RateLimited) and (isinstance(exc, QuotaExhausted) or run.attempts < MAX_RATE_WAITS):
        delay = max(1.0, float(exc.wait or 10)) * random.uniform(1.0, 1.2)
        return _later(run, ctx, delay, message)
    if isinstance(exc, TRANSIENT) and run.attempts < MAX_ATTEMPTS:
        delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (run.attempts - 1)) * random.uniform(1.0, 1.25)
        return _later(run, ctx, delay, message)
    if not isinstance(exc, (*TRANSIENT, RateLimited)):
        log.exception("sync run %s failed", run.pk)
    run_finish(run, status=SyncRun.Status.FAILED, ctx=ctx, error=message)
    return "failed"


def _later(run: SyncRun, ctx: RunContext | None, delay: float, message: str) -> str:
    run_wait(run, until=timezone.now() + timedelta(seconds=delay), error=f"will try again: {message}", ctx=ctx)
    enqueue_unit(run.pk, delay_seconds=delay)
    return f"waiting {delay:.0f}s"
