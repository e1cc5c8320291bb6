"""The django-q2 schedules Tagscope needs, created and kept idempotently by name."""

from __future__ import annotations

from typing import Any

HEARTBEAT = "tagscope.heartbeat"
TOKEN_REFRESH = "tagscope.refresh-expiring-tokens"
DELIVERIES_SWEEP = "tagscope.deliveries-sweep"  # fan events out to webhook destinations, re-enqueue due ones
SYNC_SCHEDULES = "tagscope.sync-schedules"  # per-connection sync schedules follow the connections


def wanted_schedules() -> list[dict[str, Any]]:
    from django_q.models import Schedule

    from integrations.sync.scheduling import wanted_sync_schedules

    return [
        {"name": HEARTBEAT, "func": "integrations.tasks.heartbeat", "schedule_type": Schedule.MINUTES, "minutes": 1},
        {"name": TOKEN_REFRESH, "func": "integrations.tasks.refresh_expiring_tokens",
         "schedule_type": Schedule.MINUTES, "minutes": 10},
        {"name": DELIVERIES_SWEEP, "func": "integrations.tasks.deliveries_sweep",
         "schedule_type": Schedule.MINUTES, "minutes": 1},
        # Keeps the per-connection sync schedules in step with the connections (new, changed, gone).
        {"name": SYNC_SCHEDULES, "func": "integrations.tasks.ensure_schedules",
         "schedule_type": Schedule.MINUTES, "minutes": 5},
        *wanted_sync_schedules(),
    ]


def ensure_schedules(**_: Any) -> None:
    """Create or update every wanted schedule by name; safe to call at every migrate."""
    from django_q.models import Schedule

    from integrations.sync.scheduling import stale_sync_schedule_names

    wanted = wanted_schedules()
    stale = stale_sync_schedule_names(wanted)
    if stale:
        Schedule.objects.filter(name__in=stale).delete()
    for spec in wanted:
        name = spec["name"]
        fields = {k: v for k, v in spec.items() if k != "name"}
        schedule, created = Schedule.objects.get_or_create(name=name, defaults={**fields, "repeats": -1})
        if not created and any(getattr(schedule, k) != v for k, v in fields.items()):
            for key, value in fields.items():
                setattr(schedule, key, value)
            schedule.save()
