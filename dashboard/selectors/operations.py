"""What /operations/ shows: health, open alerts, per connection and location freshness, success rates,
HighLevel latency, 429s, retries and quota, schedules, and 7 days of chart data. A fixed number of
queries however many runs and calls there are (tests/dashboard/test_operations.py counts them)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone

from dashboard.selectors.operations_metrics import call_stats, daily_calls, day_index, day_start, roll_up
from dashboard.selectors.operations_storage import storage_overview
from integrations.alerts.quota import Quota, quota_for_day
from integrations.health import health_report
from integrations.models import Alert, Connection, Location, RateLimitDay, SyncRun

KIND_EVERY = {"tags": "tags_every_minutes", "statistics": "statistics_every_minutes",
              "accounts": "accounts_every_minutes"}
STATES = ("fresh", "late", "stale", "never")  # worst last
CHART_DAYS = 7


def freshness(last: datetime | None, every_minutes: int, now: datetime) -> dict[str, Any]:
    """The age of the last good refresh against its schedule: fresh within 1.5 periods (+5 min of slack for
    the queue), late within 3, stale beyond."""
    if last is None:
        return {"state": "never", "age_minutes": None, "every": every_minutes}
    age = (now - last).total_seconds() / 60
    state = "fresh" if age <= every_minutes * 1.5 + 5 else "late" if age <= every_minutes * 3 + 10 else "stale"
    return {"state": state, "age_minutes": round(age), "every": every_minutes, "last": last}


def _rate(ok: int, failed: int) -> float | None:
    return round(100.0 * ok / (ok + failed), 1) if ok + failed else None


def _run_rates(now: datetime) -> dict[int, dict[str, Any]]:
    day, week = now - timedelta(hours=24), now - timedelta(days=7)
    rows = (SyncRun.objects.filter(kind__in=SyncRun.UNIT_KINDS, finished_at__gte=week)
            .values("location_id").annotate(
                ok24=Count("id", filter=Q(status=SyncRun.Status.SUCCEEDED, finished_at__gte=day)),
                failed24=Count("id", filter=Q(status=SyncRun.Status.FAILED, finished_at__gte=day)),
                ok7=Count("id", filter=Q(status=SyncRun.Status.SUCCEEDED)),
                failed7=Count("id", filter=Q(status=SyncRun.Status.FAILED))).order_by())
    return {r["location_id"]: {"rate24": _rate(r["ok24"], r["failed24"]), "rate7": _rate(r["ok7"], r["failed7"]),
                               "failed24": r["failed24"], "runs24": r["ok24"] + r["failed24"]} for r in rows}


def _last_success(now: datetime) -> dict[tuple[int, str], datetime]:
    rows = (SyncRun.objects.filter(kind__in=SyncRun.UNIT_KINDS, status=SyncRun.Status.SUCCEEDED,
                                   finished_at__gte=now - timedelta(days=CHART_DAYS))
            .values("location_id", "kind").annotate(last=Max("finished_at")).order_by())
    return {(r["location_id"], r["kind"]): r["last"] for r in rows}


def _location_rows(now: datetime, calls: dict, quota: dict[str, Quota]) -> list[dict[str, Any]]:
    last = _last_success(now)
    rates = _run_rates(now)
    rows = []
    locations = Location.objects.filter(Q(is_installed=True) | Q(connection__isnull=False)).select_related("connection")
    for location in locations.order_by("name", "pk"):
        connection = location.connection
        kinds = {}
        for kind, field in KIND_EVERY.items():
            every = getattr(connection, field) if connection else 0
            kinds[kind] = freshness(last.get((location.pk, kind)), every, now) if every else {"state": "never"}
        worst = max((k["state"] for k in kinds.values()), key=STATES.index)
        stats = calls.get((location.connection_id, location.location_id), {})
        rows.append({"location": location, "kinds": kinds, "freshness": worst,
                     "rates": rates.get(location.pk, {}), "calls": stats,
                     "quota": quota.get(location.location_id)})
    return rows


def _connection_rows(calls: dict, locations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_connection: dict[int | None, list[dict]] = defaultdict(list)
    for (connection_id, _resource), stats in calls.items():
        by_connection[connection_id].append(stats)
    location_count: dict[int, int] = defaultdict(int)
    failing: dict[int, int] = defaultdict(int)
    for row in locations:
        location_count[row["location"].connection_id] += 1
        failing[row["location"].connection_id] += row["freshness"] in ("stale", "never")
    return [{"connection": c, "locations": location_count[c.pk], "behind": failing[c.pk],
             "calls": roll_up(by_connection.get(c.pk, []))} for c in Connection.objects.order_by("name", "pk")]


def _schedules(now: datetime) -> dict[str, Any]:
    from django_q.models import Failure, Schedule

    from integrations.sync.scheduling import PREFIX

    rows = list(Schedule.objects.filter(name__startswith="tagscope.").exclude(name__startswith=PREFIX)
                .order_by("name").values("name", "func", "schedule_type", "minutes", "next_run"))
    for row in rows:
        row["overdue"] = bool(row["next_run"] and row["next_run"] < now - timedelta(minutes=5))
        row["every"] = (f"every {row['minutes']} min" if row["schedule_type"] == Schedule.MINUTES
                        else dict(Schedule.TYPE).get(row["schedule_type"], row["schedule_type"]).lower())
    per_connection = Schedule.objects.filter(name__startswith=PREFIX).aggregate(
        sync=Count("id", filter=Q(name__contains=".connection-")),
        retries=Count("id", filter=Q(name__contains=".retry.")))
    failures = Failure.objects.filter(stopped__gte=now - timedelta(hours=24)).count()
    return {"rows": rows, "sync": per_connection["sync"], "retries": per_connection["retries"],
            "failed_tasks_24h": failures}


def _quota_by_day(days: list) -> dict[Any, float]:
    """{day: the highest share of the daily quota any resource used} (RateLimitDay: one row per key and day)."""
    worst: dict[Any, float] = {}
    for row in RateLimitDay.objects.filter(day__in=days, reported_limit__gt=0).values(
            "day", "reported_remaining", "reported_limit"):
        quota = Quota("", row["reported_remaining"] or 0, row["reported_limit"])
        worst[row["day"]] = max(worst.get(row["day"], 0.0), quota.used_pct)
    return worst


def _charts(now: datetime) -> dict[str, Any]:
    first = timezone.localtime(now).date() - timedelta(days=CHART_DAYS - 1)
    days = [first + timedelta(days=n) for n in range(CHART_DAYS)]
    runs = {(r["day"], r["status"]): r["n"] for r in SyncRun.objects.filter(
        kind__in=SyncRun.UNIT_KINDS, finished_at__gte=day_start(first),
        status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED],
    ).annotate(day=day_index("finished_at", days)).values("day", "status").annotate(n=Count("id")).order_by()}
    calls = daily_calls(days=days)
    quota = _quota_by_day(days)
    return {
        "labels": [d.isoformat() for d in days],
        "runs_succeeded": [runs.get((n, "succeeded"), 0) for n in range(CHART_DAYS)],
        "runs_failed": [runs.get((n, "failed"), 0) for n in range(CHART_DAYS)],
        "calls": [calls[d]["calls"] for d in days],
        "throttled": [calls[d]["throttled"] for d in days],
        "retries": [calls[d]["retries"] for d in days],
        "p95": [calls[d]["p95"] for d in days],
        "quota_pct": [quota.get(d) for d in days],
    }


def _health_rows(checks: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": name, "ok": check["ok"], "ms": check.get("ms"),
             "detail": " · ".join(f"{k.replace('_', ' ')}: {v}" for k, v in check.items()
                                  if k not in ("ok", "ms") and v is not None)}
            for name, check in checks.items()]


def operations_overview(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    calls = call_stats(since=now - timedelta(hours=24))
    quota = quota_for_day(now.date())
    locations = _location_rows(now, calls, quota)
    health = health_report(now=now)
    alerts = list(Alert.objects.filter(state__in=Alert.ACTIVE).select_related("location", "connection")
                  .order_by("severity", "-last_seen_at")[:20])  # critical before warning
    alerting = {a.location_id for a in alerts}
    for row in locations:
        row["alerting"] = row["location"].pk in alerting
    return {
        "now": now,
        "health": health.as_dict(),
        "health_rows": _health_rows(health.checks),
        "alerts": alerts,
        "critical": sum(a.severity == Alert.Severity.CRITICAL for a in alerts),
        "connections": _connection_rows(calls, locations),
        "locations": locations,
        "totals": roll_up(calls.values()),
        "behind": sum(row["freshness"] in ("stale", "never") for row in locations),
        "schedules": _schedules(now),
        "charts": _charts(now),
        "storage": storage_overview(),
    }
