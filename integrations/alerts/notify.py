"""Tell people: mail to every admin, and an `alert.raised` / `alert.resolved` Event that webhook
destinations subscribed to `alert.*` receive. Each notification is claimed with a conditional UPDATE
first, so two evaluators running at once send it once."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string

from integrations.models import Alert, Event

log = logging.getLogger(__name__)
ADMIN_GROUP = "Admin"  # the role group made by dashboard's migration (integrations never imports dashboard)


def render_text(template_name: str, context: dict) -> str:
    """A plain-text mail body. Text templates render with autoescape off, and render_to_string marks what it
    returns safe for HTML: shown on a page (the digest preview) it would carry names from HighLevel in raw.
    A plain str again, so that any template that prints it escapes it."""
    return str.__str__(render_to_string(template_name, context))


def admin_emails() -> list[str]:
    users = get_user_model().objects.filter(Q(groups__name=ADMIN_GROUP) | Q(is_superuser=True), is_active=True)
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def base_url() -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/")


def _send(alert: Alert, *, resolved: bool, reminder: bool = False) -> None:
    recipients = admin_emails()
    if not recipients:
        log.warning("alert %s: no admin with an email address to tell", alert.dedupe_key)
        return
    context = {"alert": alert, "resolved": resolved, "reminder": reminder, "base_url": base_url()}
    prefix = "Resolved" if resolved else ("Still failing" if reminder else alert.get_severity_display())
    message = EmailMultiAlternatives(
        subject=f"[Tagscope] {prefix}: {alert.title}"[:200],
        body=render_text("email/alert.txt", context),
        to=recipients,
    )
    message.attach_alternative(render_to_string("email/alert.html", context), "text/html")
    message.send()


def _event(alert: Alert, event_type: str, now: datetime) -> None:
    Event.objects.create(
        type=event_type, occurred_at=now, connection_id=alert.connection_id, location_id=alert.location_id,
        subject_id=str(alert.pk), payload={
            "alert_id": alert.pk, "kind": alert.kind, "key": alert.dedupe_key, "severity": alert.severity,
            "title": alert.title, "detail": alert.detail, "first_seen_at": alert.first_seen_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
            "resolution_note": alert.resolution_note,
        },
    )


def alert_notify(alert: Alert, *, now: datetime, first: bool) -> bool:
    """Mail the admins about an open alert (and record `alert.raised` the first time). False: someone
    else just did, or the mail could not be sent (the next evaluation tries again)."""
    previous = alert.notified_at
    claimed = Alert.objects.filter(pk=alert.pk, notified_at=previous) if previous else \
        Alert.objects.filter(pk=alert.pk, notified_at__isnull=True)
    if not claimed.update(notified_at=now, notify_count=F("notify_count") + 1):
        return False
    alert.refresh_from_db()
    if first:
        _event(alert, Event.Type.ALERT_RAISED, now)
    try:
        _send(alert, resolved=False, reminder=not first)
    except Exception:
        log.exception("could not mail alert %s", alert.dedupe_key)
        Alert.objects.filter(pk=alert.pk, notified_at=now).update(notified_at=previous,
                                                                  notify_count=F("notify_count") - 1)
        return False
    return True


def alert_notify_resolved(alert: Alert, *, now: datetime) -> bool:
    """Mail that it is over, if anyone was told it began."""
    if alert.notified_at is None:
        return False
    if not Alert.objects.filter(pk=alert.pk, resolved_notified_at__isnull=True).update(resolved_notified_at=now):
        return False
    _event(alert, Event.Type.ALERT_RESOLVED, now)
    try:
        _send(alert, resolved=True)
    except Exception:
        log.exception("could not mail the resolution of alert %s", alert.dedupe_key)
        return False
    return True
