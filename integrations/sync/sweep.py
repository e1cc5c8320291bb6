"""Units whose broker message was lost are handed out again; spent one-off retry schedules are deleted.

The SyncRun row is the truth and the broker message only a hint (as for deliveries). Every few minutes
`sync_runs_sweep()` enqueues again:
- a queued unit older than `QUEUED_LOST_AFTER` while the broker holds no message at all (nobody will ever
  pick it: a Redis restart without persistence, a message deleted by hand), or older than
  `QUEUED_STUCK_AFTER` whatever the broker holds;
- a waiting unit whose next attempt is more than `WAIT_GRACE` past (its one-off schedule is gone);
- a running unit whose lease has expired (its worker died and no later run took the work over).
Handing a unit out twice is harmless: its lease lets one worker do it, and the other finds it running
elsewhere or finished ("already running elsewhere", "nothing to do").
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations.models import SyncLease, SyncRun
from integrations.sync.scheduling import PREFIX, enqueue_unit

log = logging.getLogger(__name__)
QUEUED_LOST_AFTER = timedelta(minutes=5)
QUEUED_STUCK_AFTER = timedelta(hours=2)
WAIT_GRACE = timedelta(minutes=10)
BATCH = 500


def _broker_is_empty() -> bool:
    from django_q.brokers import get_broker

    try:
        return get_broker().queue_size() == 0
    except Exception:  # an unreachable broker: the health check reports it; don't guess here
        log.warning("sync sweep could not read the broker's queue size", exc_info=True)
        return False


def lost_unit_ids(now=None) -> list[int]:
    now = now or timezone.now()
    Status = SyncRun.Status
    queued_before = now - (QUEUED_LOST_AFTER if _broker_is_empty() else QUEUED_STUCK_AFTER)
    live_lease = SyncLease.objects.filter(location_id=OuterRef("location_id"), kind=OuterRef("kind"),
                                          run_id=OuterRef("pk"), until__gte=now)
    lost = (SyncRun.objects.filter(kind__in=SyncRun.UNIT_KINDS)
            .filter(Q(status=Status.QUEUED, created_at__lt=queued_before)
                    | Q(status=Status.WAITING, next_attempt_at__lt=now - WAIT_GRACE)
                    | Q(status=Status.RUNNING, started_at__lt=now - WAIT_GRACE) & ~Exists(live_lease)))
    return list(lost.order_by("pk").values_list("pk", flat=True)[:BATCH])


def spent_retry_schedules_delete() -> int:
    """One-off retry schedules that have run (django-q2 keeps a ONCE schedule whose repeats reached 0)."""
    from django_q.models import Schedule

    deleted, _ = Schedule.objects.filter(name__startswith=f"{PREFIX}retry.", repeats=0).delete()
    return deleted


def sync_runs_sweep() -> dict[str, int]:
    ids = lost_unit_ids()
    for run_id in ids:
        enqueue_unit(run_id)
    if ids:
        log.warning("sync sweep handed %d unit(s) out again: %s", len(ids), ids[:20])
    return {"enqueued": len(ids), "schedules_deleted": spent_retry_schedules_delete()}
