"""Every condition that raises an alert, one function each: `check(now) -> list[Condition]`.

A Condition holding now is an alert; its `key` (the alert's dedupe key) names the condition, so the
same trouble seen every minute stays one alert. Kinds and keys:
- `location.failing` `location.failing:<locationId>`: a kind of the location's refresh failed its last
  ALERT_CONSECUTIVE_FAILURES runs. A run fails only after its own retries are spent (transient errors
  and 429s come back later as `waiting`), and a success in between starts the count again, so a blip
  stays silent.
- `refresh.failed` `refresh.failed:<locationId>`: a refresh someone asked for (page, API, command, retry)
  failed; raised as it fails (sync/runs.py asks for this check at once), with no count of failures in a
  row: they asked and are waiting for the answer. Clears when a later refresh of that kind succeeds.
- `connection.needs_reconnect` `connection.needs_reconnect:<pk>`: HighLevel refused the credentials.
- `token.expiring` `token.expiring:<pk>`: an OAuth token near its expiry that the scheduled refresh did
  not renew, or a Private Integration token older than ALERT_PIT_ROTATE_DAYS less ALERT_PIT_WARNING_DAYS.
- `quota.high` `quota.high:<resourceId>`: HighLevel's daily quota used above ALERT_QUOTA_PERCENT.
- `worker.missing` `worker.missing`: no django-q2 heartbeat for HEARTBEAT_STALE_AFTER.
- `destination.paused` `destination.paused:<pk>`: a webhook destination paused itself after failures.
- `rule.threshold` `rule:<rule pk>:<locationId>`: an admin's AlertRule holds for a location.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

from integrations.alerts.quota import quota_today
from integrations.alerts.weekly import weekly_changes, weeks_before
from integrations.health import HEARTBEAT_STALE_AFTER
from integrations.models import (
    AlertRule,
    Connection,
    Destination,
    Event,
    Location,
    SyncRun,
    WorkerHeartbeat,
)

WARNING, CRITICAL = "warning", "critical"


@dataclass(frozen=True)
class Condition:
    kind: str
    key: str
    title: str
    detail: str = ""
    severity: str = WARNING
    connection_id: int | None = None
    location_id: int | None = None  # Location pk
    rule_id: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    # Raised once with the alert: an Event of this type whose payload is context["event"] (goals and health).
    event_type: str = ""


def location_failing(now: datetime) -> list[Condition]:
    threshold = settings.ALERT_CONSECUTIVE_FAILURES
    finished = (SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED)
    # Only locations with a recent final failure can be failing; the rest cost nothing.
    suspects = (SyncRun.objects.filter(status=SyncRun.Status.FAILED, kind__in=SyncRun.UNIT_KINDS,
                                       finished_at__gte=now - timedelta(days=7))
                .values_list("location_id", flat=True).distinct())
    found = []
    # A location no longer installed, or whose connection was disconnected, is not expected to sync.
    watched = Location.objects.filter(pk__in=list(suspects), is_installed=True).exclude(
        connection__status=Connection.Status.DISCONNECTED)
    for location in watched.order_by("pk"):
        failing = {}
        for kind in SyncRun.UNIT_KINDS:
            runs = list(SyncRun.objects.filter(location=location, kind=kind, status__in=finished)
                        .order_by("-id").values("pk", "status", "error", "trace_ids")[:threshold])
            if len(runs) == threshold and all(r["status"] == SyncRun.Status.FAILED for r in runs):
                failing[str(kind)] = runs[0]
        if failing:
            last = next(iter(failing.values()))
            traces = sorted({t for run in failing.values() for t in run["trace_ids"]})[:5]
            found.append(_runs_failed(
                "location.failing", location, f"{', '.join(failing)} refresh failed {threshold} times in a row",
                last_pk=last["pk"], last_error=last["error"], traces=traces,
                context={"kinds": sorted(failing), "runs": [r["pk"] for r in failing.values()]}))
    return found


def _runs_failed(kind: str, location: Location, what: str, *, last_pk: int, last_error: str, traces: list[str],
                 context: dict[str, Any]) -> Condition:
    """A location's refresh failing: the last error and HighLevel's traceIds, so nobody has to dig."""
    return Condition(
        kind=kind, key=f"{kind}:{location.location_id}", severity=CRITICAL, title=f"{location.name}: {what}",
        detail=f"Last error (run #{last_pk}): {last_error[:400]}"
               + (f"\nHighLevel traceId: {', '.join(traces)}" if traces else ""),
        connection_id=location.connection_id, location_id=location.pk, context={**context, "trace_ids": traces},
    )


def refresh_failed(now: datetime) -> list[Condition]:
    failed = (SyncRun.objects.filter(status=SyncRun.Status.FAILED, kind__in=SyncRun.UNIT_KINDS,
                                     trigger__in=SyncRun.ON_DEMAND_TRIGGERS, finished_at__gte=now - timedelta(days=7))
              .select_related("location", "requested_by").order_by("-id"))
    newest: dict[tuple[int, str], SyncRun] = {}
    for run in failed[:500]:
        newest.setdefault((run.location_id, run.kind), run)
    by_location: dict[int, list[SyncRun]] = {}
    for (location_pk, kind), run in newest.items():
        later = SyncRun.objects.filter(location_id=location_pk, kind=kind, pk__gt=run.pk,
                                       status=SyncRun.Status.SUCCEEDED)
        if run.location.is_installed and not later.exists():
            by_location.setdefault(location_pk, []).append(run)
    found = []
    for runs in by_location.values():
        runs.sort(key=lambda r: r.pk)
        last, location = runs[-1], runs[-1].location
        who = f" by {last.requested_by.email}" if last.requested_by_id else ""
        traces = sorted({t for run in runs for t in run.trace_ids})[:5]
        found.append(_runs_failed(
            "refresh.failed", location, f"the refresh asked for{who} failed ({', '.join(r.kind for r in runs)})",
            last_pk=last.pk, last_error=last.error, traces=traces, context={"runs": [r.pk for r in runs]}))
    return found


def connection_needs_reconnect(now: datetime) -> list[Condition]:
    broken = Connection.objects.filter(status__in=[Connection.Status.NEEDS_RECONNECT, Connection.Status.REVOKED])
    return [Condition(
        kind="connection.needs_reconnect", key=f"connection.needs_reconnect:{c.pk}", severity=CRITICAL,
        title=f"Connection {c.name} needs to be reconnected",
        detail=f"{c.get_status_display()}: {c.last_error or 'HighLevel refused its credentials.'}",
        connection_id=c.pk, context={"status": c.status},
    ) for c in broken.order_by("pk")]


def token_expiring(now: datetime) -> list[Condition]:
    margin = timedelta(minutes=settings.ALERT_TOKEN_EXPIRY_MINUTES)
    pit_age = timedelta(days=settings.ALERT_PIT_ROTATE_DAYS - settings.ALERT_PIT_WARNING_DAYS)
    oauth = Connection.objects.usable().exclude(kind=Connection.Kind.PRIVATE_TOKEN).filter(
        Q(status=Connection.Status.EXPIRING) | Q(token_expires_at__lte=now + margin))
    pits = Connection.objects.usable().filter(kind=Connection.Kind.PRIVATE_TOKEN,
                                     connected_at__lte=now - pit_age)
    found = [Condition(
        kind="token.expiring", key=f"token.expiring:{c.pk}",
        title=f"Connection {c.name}: its token expires {_when(c.token_expires_at, now)} and was not renewed",
        detail=c.last_error or "The scheduled refresh has not renewed it; test the connection or reconnect.",
        connection_id=c.pk, context={"expires_at": c.token_expires_at.isoformat() if c.token_expires_at else None},
    ) for c in oauth.order_by("pk")]
    found += [Condition(
        kind="token.expiring", key=f"token.expiring:{c.pk}",
        title=f"Connection {c.name}: its Private Integration token is {(now - c.connected_at).days} days old",
        detail="HighLevel asks for Private Integration tokens to be rotated every "
               f"{settings.ALERT_PIT_ROTATE_DAYS} days: make a new one and paste it under Rotate.",
        connection_id=c.pk, context={"connected_at": c.connected_at.isoformat()},
    ) for c in pits.order_by("pk")]
    return found


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "soon"
    minutes = round((at - now).total_seconds() / 60)
    return f"in {minutes} min" if minutes >= 0 else f"{-minutes} min ago"


def quota_high(now: datetime) -> list[Condition]:
    limit_pct = settings.ALERT_QUOTA_PERCENT
    high = [q for q in quota_today(now).values() if q.used_pct >= limit_pct]
    known = {loc_id: (pk, name) for loc_id, pk, name in Location.objects.filter(
        location_id__in=[q.resource_id for q in high]).values_list("location_id", "pk", "name")}
    names = {loc_id: name for loc_id, (_, name) in known.items()}
    pks = {loc_id: pk for loc_id, (pk, _) in known.items()}
    return [Condition(
        kind="quota.high", key=f"quota.high:{q.resource_id}",
        title=f"{names.get(q.resource_id, q.resource_id)} used {q.used_pct:.0f}% of HighLevel's daily quota",
        detail=f"{q.used:,} of {q.limit:,} requests today (UTC); at 100% HighLevel refuses calls until midnight UTC.",
        location_id=pks.get(q.resource_id), context={"used": q.used, "limit": q.limit},
    ) for q in sorted(high, key=lambda q: q.resource_id)]


def worker_missing(now: datetime) -> list[Condition]:
    beat = WorkerHeartbeat.objects.order_by("-beat_at").first()
    if beat is not None and now - beat.beat_at <= HEARTBEAT_STALE_AFTER:
        return []
    since = f"since {beat.beat_at:%Y-%m-%d %H:%M} UTC" if beat else "ever"
    return [Condition(
        kind="worker.missing", key="worker.missing", severity=CRITICAL,
        title=f"No worker has reported {since}",
        detail="Nothing is being refreshed or delivered. Is `manage.py qcluster` running?",
        context={"last_beat": beat.beat_at.isoformat() if beat else None},
    )]


def destination_paused(now: datetime) -> list[Condition]:
    """Paused by failures (a `destination.paused` event); an admin's own pause is a choice, not trouble."""
    paused = list(Destination.objects.filter(is_active=False, paused_at__isnull=False).order_by("pk"))
    if not paused:
        return []
    automatic = {
        (e.payload or {}).get("destination_id") for e in Event.objects.filter(
            type=Event.Type.DESTINATION_PAUSED, occurred_at__gte=min(d.paused_at for d in paused))
    }
    return [Condition(
        kind="destination.paused", key=f"destination.paused:{d.pk}",
        title=f"Destination {d.name} paused itself", detail=d.paused_reason,
        context={"destination_id": d.pk},
    ) for d in paused if d.pk in automatic]


def _rule_holds(rule: AlertRule, total: float | None, pct: float | None) -> bool:
    compare = AlertRule.Comparison
    if rule.comparison == compare.DROPS_BY:
        return pct is not None and pct < -abs(rule.threshold)
    if rule.comparison == compare.RISES_BY:
        return pct is not None and pct > abs(rule.threshold)
    if total is None:
        return False
    return total < rule.threshold if rule.comparison == compare.BELOW else total > rule.threshold


def statistics_rules(now: datetime) -> list[Condition]:
    weeks = weeks_before(now.date())
    found = []
    locations = {loc.pk: loc for loc in Location.objects.filter(is_installed=True)}
    for rule in AlertRule.objects.filter(is_active=True).order_by("pk"):
        pks = [rule.location_id] if rule.location_id else list(locations)
        changes = weekly_changes(location_pks=pks, metrics=[rule.metric], weeks=weeks, platform=rule.platform)
        for pk in pks:
            change = changes.get((pk, rule.metric))
            location = locations.get(pk)
            if change is None or location is None or not _rule_holds(rule, change.total, change.pct):
                continue
            found.append(Condition(
                kind="rule.threshold", key=f"rule:{rule.pk}:{location.location_id}", rule_id=rule.pk,
                title=f"{location.name}: {rule.name}",
                detail=f"{rule.metric} {weeks.start}..{weeks.end}: {change.total:,.0f}"
                       f" (previous 7 days {change.previous or 0:,.0f}"
                       + (f", {change.pct:+.1f}%)" if change.pct is not None else ")"),
                location_id=pk, connection_id=location.connection_id,
                context={"total": change.total, "previous": change.previous, "pct": change.pct},
            ))
    return found


CHECKS: dict[str, Callable[[datetime], list[Condition]]] = {
    "location.failing": location_failing,
    "refresh.failed": refresh_failed,
    "connection.needs_reconnect": connection_needs_reconnect,
    "token.expiring": token_expiring,
    "quota.high": quota_high,
    "worker.missing": worker_missing,
    "destination.paused": destination_paused,
    "rule.threshold": statistics_rules,
}

RESOLUTION_NOTES = {
    "location.failing": "The location's refresh succeeded again.",
    "refresh.failed": "A later refresh of the location succeeded.",
    "connection.needs_reconnect": "The connection works again (reconnected, rotated or removed).",
    "token.expiring": "The token was renewed or replaced.",
    "quota.high": "The daily quota use fell below the threshold (a new UTC day, or fewer calls).",
    "worker.missing": "A worker reported again.",
    "destination.paused": "The destination was resumed or removed.",
    "rule.threshold": "The statistics no longer meet the rule (or the rule was switched off).",
}
