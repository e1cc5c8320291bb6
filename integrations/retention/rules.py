"""What the nightly prune deletes, table by table: each rule names the rows past their window and the ids
that must stay. Windows are settings (dashboard/settings.py, "Retention"); docs/deploy.md explains them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, Min, OuterRef, QuerySet

from integrations.delivery.sending import CURSOR, REWIND
from integrations.models import (
    Alert,
    ApiCall,
    AuditEntry,
    Delivery,
    DeliveryAttempt,
    DeliveryCursor,
    Destination,
    Event,
    InboundWebhook,
    PruneRun,
    RateLimitDay,
    SyncRun,
)
from integrations.retention.rollup import api_calls_kept_from, day_bounds

PRUNE_RUNS_KEPT = 100


@dataclass
class Context:
    now: datetime
    sync_run_keep: set[int] = field(default_factory=set)

    def days_ago(self, days: int) -> datetime:
        return self.now - timedelta(days=days)


@dataclass(frozen=True)
class Rule:
    label: str  # as the Operations page and `manage.py prune` name it
    rows: Callable[[Context], QuerySet]  # the rows past their window
    keep: Callable[[Context], set[int]] = lambda ctx: set()
    passes: int = 1  # a rule whose deletions make more rows eligible (parents of pruned runs) runs again


def api_calls(ctx: Context) -> QuerySet:
    kept_from = api_calls_kept_from(now=ctx.now, days=settings.RETENTION_API_CALLS_DAYS)
    return ApiCall.objects.filter(at__lt=day_bounds(kept_from)[0])


def sync_runs_newest(ctx: Context) -> set[int]:
    """The newest RETENTION_SYNC_RUNS_KEEP runs of each location and kind, whatever their age: one short query
    per group on the (location, kind, -id) index, so a location that stopped syncing keeps its last runs."""
    keep = int(settings.RETENTION_SYNC_RUNS_KEEP)
    groups = SyncRun.objects.filter(created_at__lt=ctx.days_ago(settings.RETENTION_SYNC_RUNS_DAYS)).values_list(
        "location_id", "kind").distinct().order_by()
    newest: set[int] = set()
    for location_id, kind in groups:
        newest.update(SyncRun.objects.filter(location_id=location_id, kind=kind).order_by("-id")
                      .values_list("id", flat=True)[:keep])
    return newest


def _old_finished_runs(ctx: Context) -> QuerySet:
    return SyncRun.objects.filter(created_at__lt=ctx.days_ago(settings.RETENTION_SYNC_RUNS_DAYS),
                                  status__in=SyncRun.FINISHED)


def sync_run_units(ctx: Context) -> QuerySet:
    return _old_finished_runs(ctx).filter(kind__in=SyncRun.UNIT_KINDS)


def sync_run_parents(ctx: Context) -> QuerySet:
    """Bulk runs go once their units have (a unit of a kept run keeps its parent, so it never cascades away)."""
    children = SyncRun.objects.filter(parent=OuterRef("pk"))
    return _old_finished_runs(ctx).exclude(kind__in=SyncRun.UNIT_KINDS).filter(~Exists(children))


def sync_run_keep(ctx: Context) -> set[int]:
    if not ctx.sync_run_keep:
        ctx.sync_run_keep = sync_runs_newest(ctx)
    return ctx.sync_run_keep


def events(ctx: Context) -> QuerySet:
    """Events the delivery fan-out has read (every destination then has its Delivery rows, which carry the
    body), past their window; the `destination.paused` event of a destination still paused stays, since
    the alert about it looks for it."""
    if Destination.objects.exists():
        cursor = DeliveryCursor.objects.filter(name=CURSOR).values_list("last_event_id", flat=True).first() or 0
        rows = Event.objects.filter(id__lte=cursor - REWIND)
    else:
        rows = Event.objects.all()
    rows = rows.filter(occurred_at__lt=ctx.days_ago(settings.RETENTION_EVENTS_DAYS))
    paused_since = Destination.objects.filter(is_active=False).aggregate(m=Min("paused_at"))["m"]
    if paused_since:
        rows = rows.exclude(type=Event.Type.DESTINATION_PAUSED, occurred_at__gte=paused_since)
    return rows


def failed_tasks(ctx: Context) -> QuerySet:
    """django-q2 keeps at most `save_limit` successful tasks, but every failure (Q_CLUSTER in settings.py)."""
    from django_q.models import Failure

    return Failure.objects.filter(stopped__lt=ctx.days_ago(settings.RETENTION_FAILED_TASKS_DAYS))


def expired_sessions(ctx: Context) -> QuerySet:
    from django.contrib.sessions.models import Session

    return Session.objects.filter(expire_date__lt=ctx.now)


def prune_runs(ctx: Context) -> QuerySet:
    newest = PruneRun.objects.order_by("-id").values_list("id", flat=True)[PRUNE_RUNS_KEPT - 1:PRUNE_RUNS_KEPT]
    return PruneRun.objects.filter(id__lt=newest[0]) if newest else PruneRun.objects.none()


def rate_limit_days_kept() -> int:
    """Quota days are kept as long as the calls, and at least the 8 days the Operations quota chart reads."""
    return max(int(settings.RETENTION_API_CALLS_DAYS), 8)


def _rate_limit_days(ctx: Context) -> QuerySet:
    return RateLimitDay.objects.filter(day__lt=ctx.now.date() - timedelta(days=rate_limit_days_kept()))


RULES: list[Rule] = [
    Rule("HighLevel calls", api_calls),
    Rule("Rate-limit days", _rate_limit_days),
    Rule("Sync runs", sync_run_units, keep=sync_run_keep),
    Rule("Sync runs (bulk)", sync_run_parents, keep=sync_run_keep, passes=3),
    Rule("Events", events),
    Rule("Delivery attempts", lambda ctx: DeliveryAttempt.objects.filter(
        at__lt=ctx.days_ago(settings.RETENTION_DELIVERIES_DAYS))),
    Rule("Deliveries", lambda ctx: Delivery.objects.filter(
        created_at__lt=ctx.days_ago(settings.RETENTION_DELIVERIES_DAYS),
        status__in=(Delivery.Status.DELIVERED, Delivery.Status.DEAD))),
    Rule("Inbound webhooks", lambda ctx: InboundWebhook.objects.filter(
        received_at__lt=ctx.days_ago(settings.RETENTION_INBOUND_WEBHOOKS_DAYS))),
    Rule("Audit entries", lambda ctx: AuditEntry.objects.filter(at__lt=ctx.days_ago(settings.RETENTION_AUDIT_DAYS))),
    Rule("Resolved alerts", lambda ctx: Alert.objects.filter(
        state=Alert.State.RESOLVED, resolved_at__lt=ctx.days_ago(settings.RETENTION_ALERTS_DAYS))),
    Rule("Failed tasks", failed_tasks),
    Rule("Expired sessions", expired_sessions),
    Rule("Prune records", prune_runs),
]


def rule_windows() -> dict[str, Any]:
    """The windows as configured, for `manage.py prune` and the Operations page."""
    return {
        "api_calls_days": settings.RETENTION_API_CALLS_DAYS, "sync_runs_days": settings.RETENTION_SYNC_RUNS_DAYS,
        "sync_runs_keep": settings.RETENTION_SYNC_RUNS_KEEP, "events_days": settings.RETENTION_EVENTS_DAYS,
        "deliveries_days": settings.RETENTION_DELIVERIES_DAYS,
        "inbound_webhooks_days": settings.RETENTION_INBOUND_WEBHOOKS_DAYS,
        "audit_days": settings.RETENTION_AUDIT_DAYS, "alerts_days": settings.RETENTION_ALERTS_DAYS,
        "failed_tasks_days": settings.RETENTION_FAILED_TASKS_DAYS,
    }
