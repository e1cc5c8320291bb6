"""The django-q2 schedules Tagscope needs, created and kept idempotently by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

HEARTBEAT = "tagscope.heartbeat"
TOKEN_REFRESH = "tagscope.refresh-expiring-tokens"
DELIVERIES_SWEEP = "tagscope.deliveries-sweep"  # fan events out to webhook destinations, re-enqueue due ones
SYNC_SCHEDULES = "tagscope.sync-schedules"  # per-connection sync schedules follow the connections
SYNC_SWEEP = "tagscope.sync-sweep"  # units whose broker message was lost go out again
ALERTS = "tagscope.alerts-evaluate"  # integrations/alerts/: raise, re-notify and resolve alerts
WEEKLY_DIGEST = "tagscope.weekly-digest"  # the statistics digest mail, Mondays 07:00 UTC
PRUNE = "tagscope.prune"  # integrations/retention/: rows past their window, nightly at PRUNE_HOUR_UTC
PENDING_INSTALLS_PURGE = "tagscope.pending-installs-purge"  # unconfirmed marketplace installs, after 15 minutes


def run_once_later(*, name: str, func: str, args: tuple, delay_seconds: float) -> None:
    """Run `func(*args)` once, `delay_seconds` from now, without holding a worker meanwhile: a one-off
    schedule, picked up at django-q2's next scheduler tick (it looks every 30 s)."""
    from django_q.models import Schedule

    Schedule.objects.create(
        name=f"{name}.{timezone.now().timestamp():.0f}"[:100], func=func, args=repr(args),
        # repeats=-1: django-q2 deletes a ONCE schedule after its run (with 1 it would keep it, spent).
        schedule_type=Schedule.ONCE, repeats=-1, next_run=timezone.now() + timedelta(seconds=delay_seconds),
    )


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
        {"name": SYNC_SWEEP, "func": "integrations.tasks.sync_runs_sweep",
         "schedule_type": Schedule.MINUTES, "minutes": 5},
        {"name": ALERTS, "func": "integrations.tasks.alerts_evaluate",
         "schedule_type": Schedule.MINUTES, "minutes": 1},
        {"name": PENDING_INSTALLS_PURGE, "func": "integrations.tasks.pending_installs_purge",
         "schedule_type": Schedule.MINUTES, "minutes": 1},
        # `next_run` only sets the first run of a new schedule (it is not compared afterwards).
        {"name": WEEKLY_DIGEST, "func": "integrations.tasks.weekly_digest_send",
         "schedule_type": Schedule.WEEKLY, "next_run": _next_monday_morning()},
        {"name": PRUNE, "func": "integrations.tasks.prune", "schedule_type": Schedule.DAILY,
         "next_run": _next_night()},
        *wanted_sync_schedules(),
    ]


def _next_monday_morning() -> datetime:
    now = timezone.now().astimezone(UTC)
    monday = (now + timedelta(days=(7 - now.weekday()) % 7)).replace(hour=7, minute=0, second=0, microsecond=0)
    return monday if monday > now else monday + timedelta(days=7)


def _next_night() -> datetime:
    from django.conf import settings

    now = timezone.now().astimezone(UTC)
    night = now.replace(hour=int(settings.PRUNE_HOUR_UTC), minute=30, second=0, microsecond=0)
    return night if night > now else night + timedelta(days=1)


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
        fields = {k: v for k, v in spec.items() if k not in ("name", "next_run")}
        first = {"next_run": spec["next_run"]} if "next_run" in spec else {}
        schedule, created = Schedule.objects.get_or_create(name=name, defaults={**fields, **first, "repeats": -1})
        if not created and any(getattr(schedule, k) != v for k, v in fields.items()):
            _interval_change_moves_next_run(schedule, fields)
            for key, value in fields.items():
                setattr(schedule, key, value)
            schedule.save()


def _interval_change_moves_next_run(schedule: Any, fields: dict[str, Any]) -> None:
    """A new interval counts from the last run: django-q2 keeps `next_run` as the old interval set it, so
    an admin who asks for every minute would wait out the old 15 (or a daily schedule made hourly, a day)."""
    from django_q.models import Schedule

    old, new = schedule.minutes, fields.get("minutes")
    if schedule.schedule_type == Schedule.MINUTES and old and new and old != new and schedule.next_run:
        schedule.next_run += timedelta(minutes=new - old)  # in the past: due at the scheduler's next tick
