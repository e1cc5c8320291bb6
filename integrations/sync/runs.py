"""A SyncRun's lifecycle: created queued, started by the worker that holds the lease, progress and counts
saved as it goes (which also renews the lease), finished once. Bulk runs finish with their last child."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.models import Event, Location, SyncRun
from integrations.sync.locks import LeaseLost, lease_renew

FLUSH_EVERY_SECONDS = 1.0
MAX_PROBLEMS = 200
MAX_TRACE_IDS = 50
COUNT_NAMES = ("created", "updated", "removed", "unchanged", "rows_written")


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
        """Record progress; saved (and the lease renewed) at most once a second unless forced."""
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
        with transaction.atomic():
            if self.recorder is not None:
                self.recorder.flush()
            with self._lock:
                counts, problems, trace_ids = self.counts_dict(), list(self.problems), list(self.trace_ids)
            SyncRun.objects.filter(pk=self.run.pk).update(
                progress_done=self.run.progress_done, progress_total=self.run.progress_total,
                counts=counts, problems=problems, trace_ids=trace_ids,
            )
            renewed = lease_renew(location_id=self.location.pk, kind=self.run.kind, owner=self.owner)
        if not renewed:
            raise LeaseLost(f"lease of location {self.location.pk}/{self.run.kind} was taken over")

    def counts_dict(self) -> dict[str, int]:
        out = {name: 0 for name in COUNT_NAMES}
        out.update(self.counts)
        return out


def run_create(*, kind: str, location: Location | None = None, connection_id: int | None = None,
               parent: SyncRun | None = None, trigger: str = "manual", actor: Any = None,
               retry_of: SyncRun | None = None) -> SyncRun:
    return SyncRun.objects.create(
        kind=kind, location=location,
        connection_id=connection_id if connection_id is not None else (location.connection_id if location else None),
        parent=parent, trigger=trigger, requested_by=actor if getattr(actor, "pk", None) else None,
        retry_of=retry_of,
    )


def run_finish(run: SyncRun, *, status: str, error: str = "", ctx: RunContext | None = None,
               skipped_for: SyncRun | None = None) -> SyncRun:
    """Finish a run once (a second finish changes nothing); a unit's end updates its location and parent."""
    now = timezone.now()
    fields: dict[str, Any] = {"status": status, "finished_at": now, "error": error[:2000], "next_attempt_at": None}
    if ctx is not None:
        fields.update(counts=ctx.counts_dict(), problems=ctx.problems, trace_ids=ctx.trace_ids,
                      progress_done=run.progress_done, progress_total=run.progress_total)
    if skipped_for is not None:
        fields["skipped_for"] = skipped_for
    if run.started_at is None:
        fields["started_at"] = now
    finished = SyncRun.objects.filter(pk=run.pk).exclude(status__in=SyncRun.FINISHED).update(**fields)
    run.refresh_from_db()
    if not finished:
        return run
    if status != SyncRun.Status.SKIPPED and run.location_id and run.kind in SyncRun.UNIT_KINDS:
        _location_outcome(run)
    if status == SyncRun.Status.FAILED:
        Event.objects.create(
            type=Event.Type.SYNC_FAILED, occurred_at=now, location_id=run.location_id,
            connection_id=run.connection_id, subject_id=str(run.pk), run_id=run.pk,
            payload={"run_id": run.pk, "kind": run.kind, "error": run.error[:500],
                     "location_id": run.location.location_id if run.location_id else None},
        )
    if run.parent_id:
        _child_finished(run.parent_id)
    return run


def _location_outcome(run: SyncRun) -> None:
    now = timezone.now()
    if run.status == SyncRun.Status.SUCCEEDED:
        Location.objects.filter(pk=run.location_id, first_synced_at__isnull=True).update(first_synced_at=now)
        Location.objects.filter(pk=run.location_id).update(last_synced_at=now, last_sync_status=run.status,
                                                           last_sync_error="")
    else:
        Location.objects.filter(pk=run.location_id).update(last_sync_status=run.status,
                                                           last_sync_error=run.error[:500])


def _child_finished(parent_id: int) -> None:
    SyncRun.objects.filter(pk=parent_id).update(progress_done=F("progress_done") + 1)
    parent = SyncRun.objects.get(pk=parent_id)
    if parent.progress_done < parent.progress_total or parent.is_finished:
        return
    children = list(parent.children.all())
    totals: Counter = Counter()
    for child in children:
        totals.update({k: v for k, v in (child.counts or {}).items() if isinstance(v, int)})
    failed = [c for c in children if c.status == SyncRun.Status.FAILED]
    SyncRun.objects.filter(pk=parent_id).update(counts=dict(totals))
    run_finish(parent, status=SyncRun.Status.FAILED if failed else SyncRun.Status.SUCCEEDED,
               error="; ".join(f"{c.kind} of location {c.location_id}: {c.error}" for c in failed)[:2000])


def run_start(run: SyncRun, *, worker: str) -> None:
    now = timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.RUNNING, worker=worker[:100], attempts=F("attempts") + 1,
        started_at=run.started_at or now, next_attempt_at=None,
    )
    run.refresh_from_db()
    # The location's run, and the bulk run above it, are running as soon as one of their units is.
    parent_id = run.parent_id
    while parent_id:
        SyncRun.objects.filter(pk=parent_id, status=SyncRun.Status.QUEUED).update(
            status=SyncRun.Status.RUNNING, started_at=now
        )
        parent_id = SyncRun.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()


def run_wait(run: SyncRun, *, until, error: str, ctx: RunContext | None = None) -> None:
    """The unit will be tried again at `until` (rate limit or a transient failure)."""
    fields: dict[str, Any] = {"status": SyncRun.Status.WAITING, "next_attempt_at": until, "error": error[:2000]}
    if ctx is not None:
        fields.update(counts=ctx.counts_dict(), problems=ctx.problems, trace_ids=ctx.trace_ids)
    SyncRun.objects.filter(pk=run.pk).exclude(status__in=SyncRun.FINISHED).update(**fields)
