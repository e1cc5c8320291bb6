"""The django-q2 schedules Tagscope needs, created and kept idempotently by name."""

from __future__ import annotations

from typing import Any

HEARTBEAT = "tagscope.heartbeat"
TOKEN_REFRESH = "tagscope.refresh-expiring-tokens"
DELIVERIES_SWEEP = "tagscope.deliveries-sweep"  # fan events out to webhook destinations, re-enqueue due ones


def wanted_schedules() -> list[dict[str, Any]]:
    from django_q.models import Schedule

    return [
        {"name": HEARTBEAT, "func": "integrations.tasks.heartbeat", "schedule_type": Schedule.MINUTES, "minutes": 1},
        {"name": TOKEN_REFRESH, "func": "integrations.tasks.refresh_expiring_tokens",
         "schedule_type": Schedule.MINUTES, "minutes": 10},
        {"name": DELIVERIES_SWEEP, "func": "integrations.tasks.deliveries_sweep",
         "schedule_type": Schedule.MINUTES, "minutes": 1},
    ]


def ensure_schedules(**_: Any) -> None:
    """Create or update every wanted schedule by name; safe to call at every migrate."""
    from django_q.models import Schedule

    for spec in wanted_schedules():
        name = spec["name"]
        fields = {k: v for k, v in spec.items() if k != "name"}
        schedule, created = Schedule.objects.get_or_create(name=name, defaults={**fields, "repeats": -1})
        if not created and any(getattr(schedule, k) != v for k, v in fields.items()):
            for key, value in fields.items():
                setattr(schedule, key, value)
            schedule.save()
