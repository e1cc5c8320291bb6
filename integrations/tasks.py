"""django-q2 entry points. Thin: take ids, call a service. Never pass tokens or model instances."""

from __future__ import annotations

import logging
import os
import socket

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


def heartbeat() -> None:
    from integrations.sync.agency_rollup import agency_days_fold

    worker_beat()
    agency_days_fold()  # what a worker stopped mid-sync appended and left unfolded


def worker_beat() -> None:
    """This cluster's worker is alive: the row the health checks read."""
    from integrations.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        name=settings.Q_CLUSTER["name"],
        defaults={"beat_at": timezone.now(), "hostname": socket.gethostname()[:255], "pid": os.getpid()},
    )


def worker_spawned(**_: object) -> None:
    """django-q2's post_spawn: a worker process reports as it starts, so a cluster just started is not shown
    failing ("no worker has reported yet") until the heartbeat schedule's first run, up to a minute later.
    Its failure only leaves that to the schedule: a worker must not die of it."""
    from django.db import DatabaseError

    try:
        worker_beat()
    except DatabaseError as exc:
        logger.warning("worker heartbeat at spawn failed, the heartbeat schedule will report: %s", exc)


def connection_discover_locations(connection_id: int) -> int:
    from integrations.connections.locations import agency_locations_discover

    return len(agency_locations_discover(connection_id=connection_id))


def location_details_refresh(location_id: str) -> bool:
    """`location_id` is HighLevel's locationId (Location.location_id)."""
    from integrations.connections.locations import location_details_refresh as refresh
    from integrations.models import Location

    location = Location.objects.filter(location_id=location_id).first()
    return refresh(location=location) if location is not None else False


def refresh_expiring_tokens() -> int:
    from integrations.connections.tokens import refresh_expiring_tokens as refresh

    return refresh()


def pending_installs_purge() -> int:
    from integrations.connections.installs import pending_installs_purge as purge

    return purge()


def delivery_send(delivery_id: int) -> str:
    from integrations.delivery.sending import delivery_send as send

    return send(delivery_id=delivery_id)


def deliveries_sweep() -> dict:
    from integrations.delivery.sending import deliveries_sweep as sweep

    return sweep()


def ensure_schedules() -> None:
    from integrations.schedules import ensure_schedules as ensure

    ensure()


def sync_unit(run_id: int) -> str:
    from integrations.sync.services import sync_unit_execute

    return sync_unit_execute(run_id=run_id)


def sync_units(run_ids: list[int]) -> dict[str, int]:
    from integrations.sync.services import units_execute

    return units_execute(run_ids=run_ids, take_queued=True)


def alerts_evaluate(kinds: list[str] | None = None) -> dict:
    """Every alert check, or only `kinds` (a failed refresh someone asked for is checked at once)."""
    from integrations.alerts.conditions import CHECKS
    from integrations.alerts.engine import alerts_evaluate as evaluate

    return evaluate(checks={kind: CHECKS[kind] for kind in kinds} if kinds else None)


def weekly_digest_send() -> int:
    from integrations.alerts.digest import weekly_digest_send as send

    return send()


def sync_connection(connection_id: int, kind: str) -> int:
    from integrations.sync.services import refresh_connection_enqueue

    return len(refresh_connection_enqueue(connection_id=connection_id, kinds=[kind], trigger="schedule"))


def sync_runs_sweep() -> dict:
    from integrations.sync.sweep import sync_runs_sweep as sweep

    return sweep()


def prune() -> dict:
    """The nightly `tagscope.prune`: rows past their retention window (integrations/retention/)."""
    from integrations.retention.prune import prune_run

    record = prune_run(trigger="schedule")
    return {"deleted": record.deleted, "seconds": record.seconds}
