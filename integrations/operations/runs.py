"""Which failed runs the run history may retry, and retrying them (cancel and the run's states: sync/runs.py)."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from integrations.models import SyncRun
from integrations.sync.runs import failed_units_retry_plan
from integrations.sync.scheduling import enqueue_units
from integrations.sync.services import run_retry

log = logging.getLogger(__name__)
MAX_BULK_RETRY = 1000


def run_retry_failed_unit(*, run: SyncRun, actor: Any) -> SyncRun | None:
    """Retry one failed run (a unit, or a bulk run's failed units); None when it had not failed."""
    if run.status != SyncRun.Status.FAILED:
        return None
    return run_retry(run, actor=actor)


def _not_retried(runs: QuerySet[SyncRun]) -> QuerySet[SyncRun]:
    """Failed units that are still the last word on their location and kind: not retried, and not
    followed by a run of the same location and kind that succeeded or is under way."""
    later = SyncRun.objects.filter(location=OuterRef("location"), kind=OuterRef("kind"), pk__gt=OuterRef("pk"))
    return runs.filter(status=SyncRun.Status.FAILED, kind__in=SyncRun.UNIT_KINDS, location__isnull=False).exclude(
        Exists(SyncRun.objects.filter(retry_of=OuterRef("pk")))).exclude(
        Exists(later.exclude(status__in=(SyncRun.Status.FAILED, SyncRun.Status.SKIPPED))))


def runs_retryable_count(runs: QuerySet[SyncRun]) -> int:
    return _not_retried(runs).count()


def runs_retry_failed(*, runs: QuerySet[SyncRun], actor: Any) -> SyncRun | None:
    """Retry every failed unit in `runs` not retried yet, newest failure per location and kind, under one
    bulk run (kind `all`, trigger `retry`) whose progress counts finished units; None if there was none."""
    newest: dict[tuple[int, str], SyncRun] = {}
    for run in _not_retried(runs).select_related("location").order_by("-id")[:MAX_BULK_RETRY]:
        newest.setdefault((run.location_id, run.kind), run)
    if not newest:
        return None
    bulk, units = failed_units_retry_plan(list(newest.values()), actor=actor)
    log.info("bulk retry run %s: %d failed units again", bulk.pk, len(units))
    enqueue_units([unit.pk for unit in units])
    bulk.refresh_from_db()
    return bulk
