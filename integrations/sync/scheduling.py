"""django-q2 plumbing for the sync: a task per unit or per batch of units, delayed re-tries, and the
per-connection schedules.

django-q2 runs one task per worker process at a time, and a unit spends its time waiting (on HighLevel's
answers and on its location's rate limit). So units enqueued together (a location's kinds, a connection's or
every location) go out in batches, one per worker of the running clusters, and a worker runs its batch's
units side by side on threads (services.units_execute): a two-worker cluster then keeps dozens of locations
at their own rate limits, where one unit per task would sync two at a time while the rest queued.

Schedules, kept idempotently by name (integrations/schedules.py calls `wanted_sync_schedules`):
- `tagscope.sync.tags.connection-<id>`: every `Connection.tags_every_minutes` (default 15)
- `tagscope.sync.statistics.connection-<id>`: every `statistics_every_minutes` (default 60)
- `tagscope.sync.accounts.connection-<id>`: every `accounts_every_minutes` (default 1440: daily)
Each fires `integrations.tasks.sync_connection(connection_id, kind)`, which enqueues one unit per
location. Connections that cannot sync (disconnected, revoked) get none; stale ones are deleted.
"""

from __future__ import annotations

import logging
import math
from typing import Any

log = logging.getLogger(__name__)
PREFIX = "tagscope.sync."
KIND_FIELDS = {"tags": "tags_every_minutes", "statistics": "statistics_every_minutes",
               "accounts": "accounts_every_minutes"}
UNIT_TASK = "integrations.tasks.sync_unit"
UNITS_TASK = "integrations.tasks.sync_units"
CONNECTION_TASK = "integrations.tasks.sync_connection"


def schedule_name(connection_id: int, kind: str) -> str:
    return f"{PREFIX}{kind}.connection-{connection_id}"


def batches_plan(run_ids: list[int], *, per_task: int, workers: int) -> list[list[int]]:
    """Units into batches for worker tasks: as many batches as the cluster has workers (more when a batch
    would pass `per_task` units), the units dealt round-robin so every batch mixes locations and kinds."""
    if not run_ids:
        return []
    count = min(len(run_ids), max(workers, math.ceil(len(run_ids) / max(1, per_task))))
    return [run_ids[start::count] for start in range(count)]


def cluster_workers() -> int:
    """Worker processes of every running cluster, on every machine (django-q2's own status, as `qinfo`
    reads it); this process's Q_WORKERS when no cluster reports one."""
    from django.conf import settings
    from django_q.status import Stat

    try:
        running = sum(len(stat.workers) for stat in Stat.get_all())
    except Exception:  # an unreachable broker or cache: the health check reports it; plan as configured
        log.warning("could not read the clusters' status; planning batches for Q_WORKERS", exc_info=True)
        running = 0
    return running or int(settings.Q_CLUSTER.get("workers") or 1)


def enqueue_units(run_ids: list[int]) -> None:
    """Hand several units to workers at once: in batches that one worker task runs side by side
    (`sync_units`, services.units_execute), so a cluster of a few workers keeps many locations busy."""
    from django.conf import settings
    from django_q.tasks import async_task

    for batch in batches_plan(list(run_ids), per_task=settings.SYNC_UNITS_PER_TASK,
                              workers=cluster_workers()):
        if len(batch) == 1:
            enqueue_unit(batch[0])
        else:
            async_task(UNITS_TASK, batch, task_name=f"sync-runs-{batch[0]}-{len(batch)}", group="sync")


def enqueue_unit(run_id: int, *, delay_seconds: float | None = None) -> None:
    """Hand a unit to a worker now, or after a delay (a one-off schedule: the worker is not held meanwhile)."""
    from django_q.tasks import async_task

    from integrations.schedules import run_once_later

    if not delay_seconds:
        async_task(UNIT_TASK, run_id, task_name=f"sync-run-{run_id}", group="sync")
        return
    run_once_later(name=f"{PREFIX}retry.run-{run_id}", func=UNIT_TASK, args=(run_id,), delay_seconds=delay_seconds)


def wanted_sync_schedules() -> list[dict[str, Any]]:
    from django_q.models import Schedule

    from integrations.models import Connection

    wanted = []
    for connection in Connection.objects.usable().order_by("pk"):
        for kind, field in KIND_FIELDS.items():
            wanted.append({
                "name": schedule_name(connection.pk, kind), "func": CONNECTION_TASK,
                "args": repr((connection.pk, kind)), "schedule_type": Schedule.MINUTES,
                "minutes": getattr(connection, field),
            })
    return wanted


def stale_sync_schedule_names(wanted: list[dict[str, Any]]) -> list[str]:
    """Per-connection sync schedules nobody wants any more (one-off retries run out by themselves)."""
    from django_q.models import Schedule

    names = {spec["name"] for spec in wanted}
    existing = Schedule.objects.filter(name__startswith=PREFIX, name__contains=".connection-")
    return [name for name in existing.values_list("name", flat=True) if name not in names]


def connection_sync_frequency_set(*, connection, tags_every_minutes: int, statistics_every_minutes: int,
                                  accounts_every_minutes: int) -> None:
    """Save a connection's refresh frequencies and bring its schedules in step at once."""
    from integrations.models import Connection
    from integrations.schedules import ensure_schedules

    Connection.objects.filter(pk=connection.pk).update(
        tags_every_minutes=tags_every_minutes, statistics_every_minutes=statistics_every_minutes,
        accounts_every_minutes=accounts_every_minutes,
    )
    connection.refresh_from_db()
    ensure_schedules()
