"""Raise, re-notify and resolve alerts from the conditions that hold now (see the package docstring)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.alerts import notify
from integrations.alerts.attention import ATTENTION_CHECKS, ATTENTION_NOTES, RESOLVED_EVENTS
from integrations.alerts.conditions import CHECKS, RESOLUTION_NOTES, Condition
from integrations.models import Alert, Event

ALL_CHECKS = {**CHECKS, **ATTENTION_CHECKS}
ALL_NOTES = {**RESOLUTION_NOTES, **ATTENTION_NOTES}

log = logging.getLogger(__name__)


def renotify_after() -> timedelta:
    return timedelta(hours=settings.ALERT_RENOTIFY_HOURS)


def alerts_evaluate(*, now: datetime | None = None,
                    checks: dict[str, Callable[[datetime], list[Condition]]] | None = None) -> dict[str, int]:
    """Check every condition once; answers how many alerts were raised, re-notified and resolved.

    A check that raises is logged and its kind left alone: its open alerts are neither re-notified nor
    resolved, since nobody knows whether their condition still holds.
    """
    now = now or timezone.now()
    firing: dict[str, Condition] = {}
    checked: set[str] = set()
    for kind, check in (checks or ALL_CHECKS).items():
        try:
            conditions = check(now)
        except Exception:
            log.exception("alert check %s failed", kind)
            continue
        checked.add(kind)
        firing.update((c.key, c) for c in conditions)
    active = {a.dedupe_key: a for a in Alert.objects.filter(state__in=Alert.ACTIVE)}
    outcome = {"raised": 0, "renotified": 0, "resolved": 0, "open": 0}
    for key, condition in firing.items():
        alert = active.get(key)
        if alert is None:
            alert = _raise(condition, now)
            if alert is not None:
                outcome["raised"] += 1
                notify.alert_notify(alert, now=now, first=True)
        else:
            _seen(alert, condition, now)
            due = alert.notified_at is None or now - alert.notified_at >= renotify_after()
            if alert.state == Alert.State.OPEN and due and notify.alert_notify(alert, now=now, first=False):
                outcome["renotified"] += 1
    for key, alert in active.items():
        note = ALL_NOTES.get(alert.kind, "The condition cleared.")
        if key not in firing and alert.kind in checked and alert_resolve(alert, note=note, now=now):
            outcome["resolved"] += 1
    outcome["open"] = Alert.objects.filter(state__in=Alert.ACTIVE).count()
    if outcome["raised"] or outcome["resolved"]:
        log.info("alerts: %(raised)d raised, %(renotified)d re-notified, %(resolved)d resolved, %(open)d open",
                 outcome)
    return outcome


def alert_raise_now(condition: Condition, *, now: datetime | None = None) -> Alert | None:
    """Raise and mail an alert for trouble met outside the evaluator's checks (a report mailing that failed),
    or see its active alert again. Its kind is in no check, so the evaluator never resolves it: whoever
    raised it resolves it (`alert_resolve`) when the trouble is over."""
    now = now or timezone.now()
    alert = Alert.objects.filter(dedupe_key=condition.key, state__in=Alert.ACTIVE).first()
    if alert is not None:
        _seen(alert, condition, now)
        return alert
    alert = _raise(condition, now)
    if alert is not None:
        notify.alert_notify(alert, now=now, first=True)
    return alert


def alert_resolve_key(key: str, *, note: str, now: datetime | None = None) -> bool:
    alert = Alert.objects.filter(dedupe_key=key, state__in=Alert.ACTIVE).first()
    return alert_resolve(alert, note=note, now=now) if alert is not None else False


def _fields(condition: Condition) -> dict[str, Any]:
    return {"title": condition.title[:300], "detail": condition.detail, "severity": condition.severity,
            "context": condition.context, "connection_id": condition.connection_id,
            "location_id": condition.location_id, "rule_id": condition.rule_id}


def _raise(condition: Condition, now: datetime) -> Alert | None:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(kind=condition.kind, dedupe_key=condition.key, first_seen_at=now,
                                         last_seen_at=now, **_fields(condition))
        if condition.event_type:
            _typed_event(alert, condition.event_type, now)
    except IntegrityError:
        return None  # another evaluator raised it a moment ago (one active alert per key)
    log.warning("alert raised: %s: %s", condition.key, condition.title)
    return alert


def _typed_event(alert: Alert, event_type: str, now: datetime, **changes: Any) -> None:
    """The event of a goals-and-health alert (`account.expired`, ...), once, in the raise's transaction."""
    payload = {"type": event_type, "occurred_at": now.isoformat(), **(alert.context.get("event") or {}),
               "alert_id": alert.pk, **changes}
    Event.objects.create(type=event_type, occurred_at=now, connection_id=alert.connection_id,
                         location_id=alert.location_id, subject_id=alert.dedupe_key.rsplit(":", 1)[-1][:64],
                         payload=payload)


def _seen(alert: Alert, condition: Condition, now: datetime) -> None:
    fields = {"last_seen_at": now, **_fields(condition)}
    Alert.objects.filter(pk=alert.pk).update(**fields)
    for name, value in fields.items():
        setattr(alert, name, value)


def alert_resolve(alert: Alert, *, note: str, now: datetime | None = None) -> bool:
    """Resolve an active alert with a note and tell whoever was told it was raised. False if already resolved."""
    now = now or timezone.now()
    done = Alert.objects.filter(pk=alert.pk, state__in=Alert.ACTIVE).update(
        state=Alert.State.RESOLVED, resolved_at=now, resolution_note=note[:500])
    if not done:
        return False
    alert.refresh_from_db()
    if alert.kind in RESOLVED_EVENTS:
        _typed_event(alert, RESOLVED_EVENTS[alert.kind], now, state="on_track")
    log.info("alert resolved: %s: %s", alert.dedupe_key, note)
    notify.alert_notify_resolved(alert, now=now)
    return True


def alert_acknowledge(alert: Alert, *, user: Any, now: datetime | None = None) -> bool:
    """Someone is on it: stop re-notifying. The alert still resolves by itself when the condition clears."""
    return bool(Alert.objects.filter(pk=alert.pk, state=Alert.State.OPEN).update(
        state=Alert.State.ACKNOWLEDGED, acknowledged_at=now or timezone.now(),
        acknowledged_by=user if getattr(user, "pk", None) else None))
