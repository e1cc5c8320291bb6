"""A SyncRun's whole lifecycle, in one place: how runs are made, and every status they take.

    queued ──start──► running ──succeed──► succeeded
       │                 │  └────fail────► failed      (attempts spent, not retryable, auth, taken over)
       │               wait ▲
       │                 ▼  │ start
       │              waiting ───fail────► failed
       └──skip / cancel (queued or waiting)► skipped

- Making runs: `run_create` (one INSERT; a parent is born with its `progress_total`), `location_plan`,
  `bulk_plan`, `retry_plan` and `failed_units_retry_plan`. services.py hands the units to workers.
- A unit's attempt: `run_start`, then progress through its RunContext (counts, problems, traceIds and the
  lease renewed, at most every FLUSH_EVERY_SECONDS), then `run_finish`, or `run_attempt_failed`: THE failure policy,
  which waits and comes back (`waiting`, a one-off schedule) or fails the run with the reason.
- `queued_units_next`: units of the same bulk that no worker has taken yet, for a batch with a free thread.
- `run_take_over` fails a dead worker's run; `run_cancel` skips queued and waiting units.
- A parent (a location's run, a bulk run) follows its units: running while one runs, `waiting` while they
  wait (with the soonest next attempt, its attempt number and error), finished with its last unit.

Every status change is one conditional UPDATE through `_move`, which names the states the row may leave
(TRANSITIONS): a run in any other state is left as it is and the caller is told, so a unit cancelled while
a worker picked it up stays cancelled, and a run finishes once. docs/reliability.md tells the retry story.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import zip_longest
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.connections.tokens import ConnectionUnusable, connection_mark_needs_reconnect
from integrations.db import database_unavailable
from integrations.highlevel.errors import AuthenticationError, QuotaExhausted, RateLimited, ScopeError
from integrations.highlevel.retry import UP, Backoff
from integrations.models import Connection, Event, Location, SyncRun
from integrations.sync.locks import LeaseLost, lease_renew
from integrations.sync.scheduling import enqueue_unit

log = logging.getLogger(__name__)
Kind, Status = SyncRun.Kind, SyncRun.Status
QUEUED, RUNNING, WAITING = Status.QUEUED, Status.RUNNING, Status.WAITING
LIVE = SyncRun.LIVE

# Every status change a run may make: name -> (the states it may leave, the state it enters).
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # RUNNING too: the sweep hands a dead worker's unit out again, and the lease decided who runs it.
    "start": ((QUEUED, WAITING, RUNNING), RUNNING),
    "wait": ((RUNNING,), WAITING),
    "succeed": (LIVE, Status.SUCCEEDED),
    "fail": (LIVE, Status.FAILED),
    "skip": (LIVE, Status.SKIPPED),  # another run of the location and kind holds the lease
    "cancel": ((QUEUED, WAITING), Status.SKIPPED),  # an admin's Cancel: never a unit a worker is running
    "taken_over": ((RUNNING,), Status.FAILED),  # its worker died; a later run did the work
    # A parent follows its units (a parent finishes with "succeed" or "fail" above).
    "follow_running": ((QUEUED, WAITING), RUNNING),
    "follow_waiting": ((QUEUED, RUNNING, WAITING), WAITING),
}
FINISHING = {Status.SUCCEEDED: "succeed", Status.FAILED: "fail", Status.SKIPPED: "skip"}
CANCELLABLE = TRANSITIONS["cancel"][0]

# Scheduled runs: 5 attempts over about 8 minutes (30 s, 1, 2 and 4 min, +0-25 %). On-demand runs (someone
# is watching) use SYNC_ON_DEMAND_ATTEMPTS and SYNC_ON_DEMAND_RETRY_SECONDS instead: `retry_backoff`.
SCHEDULED_BACKOFF = Backoff(retries=4, base=30, cap=1800, jitter=UP, spread=0.25)
MAX_RATE_WAITS = 50  # 429s of a scheduled run: HighLevel says when to come back, so they go on longer
FLUSH_EVERY_SECONDS = 2.0  # progress, counts, call records and the lease (120 s) of a unit
MAX_PROBLEMS = 200
MAX_TRACE_IDS = 50
COUNT_NAMES = ("created", "updated", "removed", "unchanged", "rows_written")


def _move(run_id: int, transition: str, **fields: Any) -> bool:
    """THE status change: one conditional UPDATE from the transition's allowed states. False: the run was in
    another state (finished, cancelled, moved by another worker) and nothing changed."""
    sources, target = TRANSITIONS[transition]
    return bool(SyncRun.objects.filter(pk=run_id, status__in=sources).update(status=target, **fields))


# --- making runs -----------------------------------------------------------------------------------------
DEFAULT_KINDS = (Kind.ACCOUNTS, Kind.TAGS, Kind.STATISTICS)  # accounts first: statistics need profile ids


def kinds_wanted(kinds: Iterable[str] | None) -> list[str]:
    """The kinds asked for (all by default), in the order they must run; an unknown one is a ValueError."""
    wanted = list(dict.fromkeys(kinds or DEFAULT_KINDS))
    unknown = set(wanted) - set(DEFAULT_KINDS)
    if unknown:
        raise ValueError(f"unknown sync kinds: {sorted(unknown)}")
    return [k for k in DEFAULT_KINDS if k in wanted]


def run_create(*, kind: str, location: Location | None = None, connection_id: int | None = None,
               parent: SyncRun | None = None, trigger: str = "manual", actor: Any = None,
               retry_of: SyncRun | None = None, total: int = 0) -> SyncRun:
    """A queued run; a parent gets `total`, the number of children whose end it waits for."""
    return SyncRun.objects.create(
        kind=kind, location=location,
        connection_id=connection_id if connection_id is not None else (location.connection_id if location else None),
        parent=parent, trigger=trigger, requested_by=actor if getattr(actor, "pk", None) else None,
        retry_of=retry_of, progress_total=total,
    )


def location_plan(location: Location, *, kinds: Iterable[str] | None = None, actor: Any = None,
                  trigger: str = "manual", parent: SyncRun | None = None) -> tuple[SyncRun, list[SyncRun]]:
    """The runs of one location (queued, not enqueued): (the run to show, its units). One kind is one unit;
    several are units under a `location` run."""
    kinds = kinds_wanted(kinds)
    if len(kinds) == 1:
        unit = run_create(kind=kinds[0], location=location, parent=parent, trigger=trigger, actor=actor)
        return unit, [unit]
    top = run_create(kind=Kind.LOCATION, location=location, parent=parent, trigger=trigger, actor=actor,
                     total=len(kinds))
    return top, [run_create(kind=k, location=location, parent=top, trigger=trigger, actor=actor) for k in kinds]


def bulk_plan(locations: list[Location], *, kind: str, kinds: Iterable[str] | None = None,
              connection_id: int | None = None,
              actor: Any = None, trigger: str = "manual") -> tuple[SyncRun | None, list[SyncRun], list[SyncRun]]:
    """(the bulk run, one run per location, every unit in interleaved order)."""
    if not locations:
        return None, [], []
    bulk = run_create(kind=kind, connection_id=connection_id, trigger=trigger, actor=actor, total=len(locations))
    kinds = kinds_wanted(kinds)
    plans = [location_plan(loc, kinds=kinds, actor=actor, trigger=trigger, parent=bulk) for loc in locations]
    # Interleave by kind too, in START_ORDER: every location's accounts before anyone's statistics.
    started = [sorted(p[1], key=lambda u: START_ORDER.index(u.kind)) for p in plans]
    units = [u for group in zip_longest(*started) for u in group if u is not None]
    return bulk, [p[0] for p in plans], units


# The order in which a bulk run's units start: every location's accounts (statistics need the profile ids),
# then statistics, then tags. Statistics go before tags because they take longest: a first fill is hundreds
# of one-day requests, at least 45 s at the location's limit however idle the cores, while a tags unit is
# bound by the CPU. Started last, the statistics ran on alone at their limits with the cores half idle;
# started first, they wait on HighLevel while the tags units that follow keep the cores busy to the end
# (200 locations: 247 -> 209 s; docs/performance.md, twelfth pass). A location's tags still come first
# where both run, since statistics yield its rate limit to them (ratelimit.background).
START_ORDER = (Kind.ACCOUNTS, Kind.STATISTICS, Kind.TAGS)
UNIT_ORDER = Case(*(When(kind=k, then=Value(i)) for i, k in enumerate(START_ORDER)), output_field=IntegerField())


def bulk_roots(run_ids: Iterable[int]) -> set[int]:
    """The top runs (a bulk run, or a location's run) that these units belong to; a lone unit has none."""
    pairs = SyncRun.objects.filter(pk__in=list(run_ids)).values_list("parent_id", "parent__parent_id")
    return {grand or parent for parent, grand in pairs if parent}


def queued_units_next(roots: set[int], *, limit: int, exclude: Collection[int] = ()) -> list[int]:
    """Up to `limit` units under `roots` still queued (no worker has started them; a unit waiting to retry
    is not queued), in the planned order, not in `exclude`. Another worker may take one at the same moment:
    the unit's lease decides, and the loser is told "already running elsewhere" (services._unit_execute)."""
    if not roots or limit < 1:
        return []
    queued = (SyncRun.objects.filter(Q(parent_id__in=roots) | Q(parent__parent_id__in=roots), status=QUEUED,
                                     kind__in=SyncRun.UNIT_KINDS)
              .order_by(UNIT_ORDER, "pk").values_list("pk", flat=True)[:limit + len(exclude)])
    return [pk for pk in queued if pk not in exclude][:limit]


def failed_units_retry_plan(failed: list[SyncRun], *, actor: Any = None, kind: str = Kind.ALL,
                            location: Location | None = None, connection_id: int | None = None,
                            retry_of: SyncRun | None = None) -> tuple[SyncRun, list[SyncRun]]:
    """Failed units again, as new units (`retry_of` each) under one new parent run of trigger `retry`."""
    again = run_create(kind=kind, location=location, connection_id=connection_id, trigger="retry", actor=actor,
                       retry_of=retry_of, total=len(failed))
    units = [run_create(kind=f.kind, location=f.location, parent=again, trigger="retry", actor=actor, retry_of=f)
             for f in failed]
    if not units:
        run_finish(again, status=Status.SUCCEEDED, error="nothing had failed")
    return again, units


def retry_plan(run: SyncRun, *, actor: Any = None) -> tuple[SyncRun, list[SyncRun]]:
    """A failed unit again as a new run; for a parent, its failed units under a new parent."""
    if run.kind in SyncRun.UNIT_KINDS:
        again = run_create(kind=run.kind, location=run.location, trigger="retry", actor=actor, retry_of=run)
        return again, [again]
    failed = list(SyncRun.objects.filter(parent__in=[run, *run.children.all()], status=Status.FAILED,
                                         kind__in=SyncRun.UNIT_KINDS))
    return failed_units_retry_plan(failed, actor=actor, kind=run.kind, location=run.location,
                                   connection_id=run.connection_id, retry_of=run)


# --- a unit's attempt ------------------------------------------------------------------------------------
@dataclass
class RunContext:
    """What a kind's refresh works with: the run, its location, a client, and the bookkeeping."""

    run: SyncRun
    location: Location
    client: Any
    owner: str
    counts: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic
    recorder: Any = None  # a BufferedRecorder of the client's calls, flushed with the progress
    _flushed_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, n: int = 1) -> None:
        if n:
            with self._lock:  # lanes (lanes.py) count from their threads
                self.counts[name] += n

    def wrote(self, rows: int) -> None:
        self.count("rows_written", rows)

    def problem(self, line: str, trace_id: str | None = None) -> None:
        with self._lock:
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(line[:300])
        self.trace(trace_id)

    def trace(self, trace_id: str | None) -> None:
        with self._lock:
            if trace_id and trace_id not in self.trace_ids and len(self.trace_ids) < MAX_TRACE_IDS:
                self.trace_ids.append(trace_id)

    def progress(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        """Record progress; saved (and the lease renewed) at most every FLUSH_EVERY_SECONDS unless forced."""
        self.run.progress_done = done
        if total is not None:
            self.run.progress_total = max(total, done)
        elif done > self.run.progress_total:
            self.run.progress_total = done
        if force or self.clock() - self._flushed_at >= FLUSH_EVERY_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Save progress, counts and the calls recorded so far, and renew the lease: one short transaction."""
        self._flushed_at = self.clock()
        # Prepared before the transaction (on SQLite it holds the one write lock), which runs them only.
        calls = self.recorder.flush_prepared() if self.recorder is not None else None
        saved = self.saved()
        with transaction.atomic():
            if calls is not None:
                calls()
            SyncRun.objects.filter(pk=self.run.pk).update(
                progress_done=self.run.progress_done, progress_total=self.run.progress_total, **saved)
            renewed = lease_renew(location_id=self.location.pk, kind=self.run.kind, owner=self.owner)
        if not renewed:
            raise LeaseLost(f"lease of location {self.location.pk}/{self.run.kind} was taken over")

    def saved(self) -> dict[str, Any]:
        """The bookkeeping as SyncRun fields."""
        with self._lock:
            counts = {name: 0 for name in COUNT_NAMES}
            counts.update(self.counts)
            return {"counts": counts, "problems": list(self.problems), "trace_ids": list(self.trace_ids)}


def run_start(run: SyncRun, *, worker: str) -> bool:
    """The worker holding the lease starts an attempt; False if the run was finished or cancelled meanwhile."""
    started = _move(run.pk, "start", worker=worker[:100], attempts=F("attempts") + 1, next_attempt_at=None,
                    started_at=Coalesce(F("started_at"), Value(timezone.now(), output_field=DateTimeField())))
    run.refresh_from_db()
    if started:
        _parents_follow(run)
    return started


def run_take_over(*, stale_run_id: int | None, run: SyncRun) -> None:
    """The lease `run` just won had expired: if its run was still running, that run's worker died."""
    if stale_run_id is None or stale_run_id == run.pk:
        return
    stale = SyncRun.objects.filter(pk=stale_run_id).first()
    if stale is not None:
        _finish(stale, "taken_over",
                error=f"its worker stopped (lease expired); run #{run.pk} took over and did the work")


def retry_backoff(run: SyncRun) -> Backoff:
    """Scheduled runs back off for minutes; a run someone asked for gives up soon and says why."""
    if not run.is_on_demand:
        return SCHEDULED_BACKOFF
    return Backoff(retries=settings.SYNC_ON_DEMAND_ATTEMPTS - 1, base=settings.SYNC_ON_DEMAND_RETRY_SECONDS,
                   jitter=UP, spread=0.25)


def _retry_in(run: SyncRun, exc: Exception) -> float | None:
    """Seconds until the next attempt, or None: the run fails now. `run.attempts` counts the attempts made."""
    if isinstance(exc, RateLimited):  # HighLevel said when to come back: not a failure, a wait
        if isinstance(exc, QuotaExhausted):
            # Spent until midnight UTC: a scheduled run waits for it, someone watching hears it now.
            waits = not run.is_on_demand
        elif run.is_on_demand:
            waits = run.attempts < settings.SYNC_ON_DEMAND_ATTEMPTS
        else:
            waits = run.attempts < MAX_RATE_WAITS
        return max(1.0, float(exc.wait or 10)) * random.uniform(1.0, 1.2) if waits else None
    if getattr(exc, "retryable", False) or database_unavailable(exc):  # the HTTP layer's typed errors, an
        return retry_backoff(run).delay(run.attempts - 1)  # unclean listing, a database busy for a while
    return None


def run_attempt_failed(run: SyncRun, ctx: RunContext | None, exc: Exception) -> str:
    """THE failure policy of a sync unit: wait and come back (`waiting`), or fail with the reason (HighLevel's
    status, message and traceId are in the error's text). Answers what happened, for the task log."""
    if ctx is not None:
        ctx.trace(getattr(exc, "trace_id", None))
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ConnectionUnusable):
        run_finish(run, status=Status.FAILED, ctx=ctx, error=f"connection unusable: {exc}")
        return "failed: connection unusable"
    if isinstance(exc, (AuthenticationError, ScopeError)):  # refreshing the token did not help
        connection = Connection.objects.filter(pk=run.location.connection_id).first()
        if connection is not None:
            connection_mark_needs_reconnect(connection, reason=f"HighLevel refused the credentials: {exc}")
        run_finish(run, status=Status.FAILED, ctx=ctx, error=message)
        return "failed: needs reconnect"
    run.refresh_from_db(fields=["attempts", "trigger"])
    delay = _retry_in(run, exc)
    if delay is not None:
        if not run_wait(run, until=timezone.now() + timedelta(seconds=delay), error=f"will try again: {message}",
                        ctx=ctx):
            return "no longer running"
        # A later success clears the run's error: the log keeps why this attempt failed. A 429 is HighLevel
        # pacing us, not a fault.
        log.log(logging.INFO if isinstance(exc, RateLimited) else logging.WARNING,
                "sync run %s (%s, location %s) attempt %s failed, trying again in %.0fs: %s",
                run.pk, run.kind, run.location_id, run.attempts, delay, message)
        enqueue_unit(run.pk, delay_seconds=delay)  # a one-off schedule: no worker is held meanwhile
        return f"waiting {delay:.0f}s"
    if not getattr(exc, "retryable", False) and not isinstance(exc, RateLimited):
        log.exception("sync run %s failed", run.pk)  # not HighLevel having a bad moment: worth a traceback
    run_finish(run, status=Status.FAILED, ctx=ctx, error=message)
    return "failed"


def run_wait(run: SyncRun, *, until, error: str, ctx: RunContext | None = None) -> bool:
    """The unit will be tried again at `until`; False if it was not running any more."""
    fields: dict[str, Any] = {"next_attempt_at": until, "error": error[:2000], **(ctx.saved() if ctx else {})}
    waits = _move(run.pk, "wait", **fields)
    run.refresh_from_db()
    if waits:
        _parents_follow(run)
    return waits


def run_cancel(*, run: SyncRun, actor: Any) -> int:
    """Cancel a queued or waiting unit, or those of a bulk run: they end `skipped` with who cancelled them,
    and the worker that picks their task up later finds nothing to do. A unit already running finishes its
    work. Answers how many were cancelled."""
    who = getattr(actor, "email", "") or "an admin"
    if run.kind in SyncRun.UNIT_KINDS:
        targets = [run]
    else:
        targets = list(SyncRun.objects.filter(parent__in=[run, *run.children.all()], kind__in=SyncRun.UNIT_KINDS))
    return sum(_finish(target, "cancel", error=f"Cancelled by {who}") for target in targets)


# --- the end of a run ------------------------------------------------------------------------------------
def run_finish(run: SyncRun, *, status: str, error: str = "", ctx: RunContext | None = None,
               skipped_for: SyncRun | None = None) -> SyncRun:
    """Finish a run once (a second finish changes nothing); a unit's end updates its location and parent."""
    _finish(run, FINISHING[status], error=error, ctx=ctx, skipped_for=skipped_for)
    return run


def _finish(run: SyncRun, transition: str, *, error: str = "", ctx: RunContext | None = None,
            skipped_for: SyncRun | None = None, **extra: Any) -> bool:
    now = timezone.now()
    fields: dict[str, Any] = {"finished_at": now, "error": error[:2000], "next_attempt_at": None,
                              "started_at": Coalesce(F("started_at"), Value(now, output_field=DateTimeField())),
                              **extra}
    if ctx is not None:
        fields.update(progress_done=run.progress_done, progress_total=run.progress_total, **ctx.saved())
    if skipped_for is not None:
        fields["skipped_for"] = skipped_for
    finished = _move(run.pk, transition, **fields)
    run.refresh_from_db()
    if not finished:
        return False
    if run.status != Status.SKIPPED and run.location_id and run.kind in SyncRun.UNIT_KINDS:
        _location_outcome(run)
    if run.status == Status.FAILED:
        Event.objects.create(
            type=Event.Type.SYNC_FAILED, occurred_at=now, location_id=run.location_id,
            connection_id=run.connection_id, subject_id=str(run.pk), run_id=run.pk,
            payload={"run_id": run.pk, "kind": run.kind, "error": run.error[:500],
                     "location_id": run.location.location_id if run.location_id else None},
        )
        if run.parent_id is None and run.is_on_demand:
            _alert_now()
    if run.parent_id:
        _child_finished(run.parent_id)
    return True


def _location_outcome(run: SyncRun) -> None:
    now = timezone.now()
    if run.status == Status.SUCCEEDED:
        Location.objects.filter(pk=run.location_id, first_synced_at__isnull=True).update(first_synced_at=now)
        Location.objects.filter(pk=run.location_id).update(last_synced_at=now, last_sync_status=run.status,
                                                           last_sync_error="")
    else:
        Location.objects.filter(pk=run.location_id).update(last_sync_status=run.status,
                                                           last_sync_error=run.error[:500])


def _alert_now() -> None:
    """Someone asked for this refresh and it failed: tell them now (integrations/alerts, `refresh.failed`),
    not at the alerts schedule's next minute."""
    from django_q.tasks import async_task

    try:
        async_task("integrations.tasks.alerts_evaluate", ["refresh.failed"], task_name="alerts-refresh-failed")
    except Exception:  # the broker is down: the every-minute evaluation raises it instead
        log.warning("could not enqueue the alert check of a failed refresh", exc_info=True)


def _child_label(child: SyncRun, parent: SyncRun) -> str:
    """How a parent's error names one of its children: its kind, and its location in a bulk run."""
    parts = [child.location.name] if child.location_id and parent.kind != Kind.LOCATION else []
    if child.kind in SyncRun.UNIT_KINDS:
        parts.append(child.kind)
    return " · ".join(parts) or f"run #{child.pk}"


def _child_finished(parent_id: int) -> None:
    SyncRun.objects.filter(pk=parent_id).update(progress_done=F("progress_done") + 1)
    parent = SyncRun.objects.get(pk=parent_id)
    if parent.is_finished:
        return
    if parent.progress_done < parent.progress_total:
        _parents_follow(parent, itself=True)
        return
    children = list(parent.children.select_related("location"))
    totals: Counter = Counter()
    for child in children:
        totals.update({k: v for k, v in (child.counts or {}).items() if isinstance(v, int)})
    failed = [c for c in children if c.status == Status.FAILED]
    traces = list(dict.fromkeys(t for c in children for t in c.trace_ids))[:MAX_TRACE_IDS]
    _finish(parent, "fail" if failed else "succeed", counts=dict(totals), trace_ids=traces,
            attempts=max(c.attempts for c in children),
            error="; ".join(f"{_child_label(c, parent)}: {c.error}" for c in failed))


def _parents_follow(run: SyncRun, *, itself: bool = False) -> None:
    """A parent shows what its units do, up to the bulk run: running while one of them runs, else waiting
    while one waits, with that unit's next attempt, attempt number and error (the soonest to come back).
    Each transition of a unit calls this; a parent finishes with its last unit (_child_finished)."""
    parent_id = run.pk if itself else run.parent_id
    now = Value(timezone.now(), output_field=DateTimeField())
    while parent_id:
        parent = SyncRun.objects.filter(pk=parent_id).first()
        if parent is None or parent.is_finished:
            return
        children = SyncRun.objects.filter(parent_id=parent_id).select_related("location")
        if children.filter(status=RUNNING).exists():
            _move(parent_id, "follow_running", started_at=Coalesce(F("started_at"), now), next_attempt_at=None)
        elif (waiting := children.filter(status=WAITING).order_by("next_attempt_at", "pk").first()) is not None:
            _move(parent_id, "follow_waiting", next_attempt_at=waiting.next_attempt_at, attempts=waiting.attempts,
                  error=f"{_child_label(waiting, parent)}: {waiting.error}"[:2000])
        parent_id = parent.parent_id
