"""Liveness and readiness: database, broker, cache, worker heartbeat, overdue schedules.

Shared by /healthz and `manage.py healthcheck` so a container probe and a load balancer agree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

HEARTBEAT_STALE_AFTER = timedelta(minutes=3)
SCHEDULE_OVERDUE_AFTER = timedelta(minutes=5)


@dataclass
class HealthReport:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Shown beside the checks, never failing the probe (an open alert is no reason to pull an instance).
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "unhealthy", "checks": self.checks, **self.info}

    def as_summary(self) -> dict[str, Any]:
        """Only ok or not per check: what an unauthenticated caller may know."""
        return {"status": "ok" if self.ok else "unhealthy",
                "checks": {name: {"ok": bool(check["ok"])} for name, check in self.checks.items()}}


def _timed(fn: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = fn() or {}
        result = {"ok": detail.pop("ok", True), **detail}
    except Exception as exc:  # a probe must report, never raise
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _broker() -> dict[str, Any]:
    from django_q.brokers import get_broker

    broker = get_broker()
    if not broker.ping():
        return {"ok": False, "kind": type(broker).__name__}
    queued = broker.queue_size()
    return {"kind": type(broker).__name__, "queued": queued}


def _cache() -> dict[str, Any]:
    key = "tagscope:healthz"
    cache.set(key, "1", 30)
    return {"ok": cache.get(key) == "1"}


def _heartbeat(now: datetime) -> dict[str, Any]:
    from integrations.models import WorkerHeartbeat

    beat = WorkerHeartbeat.objects.order_by("-beat_at").first()
    if beat is None:
        return {"ok": False, "message": "no worker has reported yet; is `manage.py qcluster` running?"}
    age = (now - beat.beat_at).total_seconds()
    return {"ok": age <= HEARTBEAT_STALE_AFTER.total_seconds(), "age_seconds": round(age), "worker": beat.name}


def _schedules(now: datetime) -> dict[str, Any]:
    from django_q.models import Schedule

    oldest = Schedule.objects.filter(next_run__isnull=False).order_by("next_run").first()
    if oldest is None:
        return {"oldest_due_seconds": None}
    overdue = max(0.0, (now - oldest.next_run).total_seconds())
    return {
        "ok": overdue <= SCHEDULE_OVERDUE_AFTER.total_seconds(),
        "oldest_due_seconds": round(overdue),
        "schedule": oldest.name,
    }


def _alerts() -> dict[str, Any]:
    from django.db.models import Count, Q

    from integrations.models import Alert

    return Alert.objects.filter(state__in=Alert.ACTIVE).aggregate(
        open=Count("id"), critical=Count("id", filter=Q(severity=Alert.Severity.CRITICAL)))


def health_report(*, now: datetime | None = None) -> HealthReport:
    now = now or timezone.now()
    report = HealthReport()
    report.checks["database"] = _timed(_database)
    report.checks["broker"] = _timed(_broker)
    report.checks["cache"] = _timed(_cache)
    report.checks["worker"] = _timed(lambda: _heartbeat(now))
    report.checks["schedules"] = _timed(lambda: _schedules(now))
    report.checks["database"]["engine"] = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    alerts = _timed(_alerts)
    report.info["alerts"] = {k: v for k, v in alerts.items() if k not in ("ok", "ms")}
    return report
