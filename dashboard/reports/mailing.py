"""Report mail: a delivery row per mailing, held for review or sent, with the PDF attached.

The row is the truth: it keeps the snapshot, so a held report is approved exactly as it was reviewed and a
resend sends what was sent. A web request never renders or mails: it takes the snapshot, stores the row as
queued and enqueues `dashboard.reports.tasks.delivery_send` (django-q2); the worker claims the row with a
conditional UPDATE (queued -> sending), so a retried task or a second worker sends once, and a second click
while a mailing of the same report to the same people is queued or sending is refused. Bounces: a recipient
the mail server refuses while taking the message (SMTP's RecipientsRefused) is recorded as bounced; one that
bounces later is read from a DSN by bounces.py.
A failure raises a `report.failed` alert to the admins through integrations/alerts; the report's next
successful mailing resolves it."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.mime.image import MIMEImage
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django_q.tasks import async_task

from dashboard.reports.bounces import bounce_address, bounce_token
from dashboard.reports.branding import branding_context
from dashboard.reports.models import Branding, Report, ReportDelivery
from dashboard.reports.periods import next_send_at
from dashboard.reports.render import report_filename, report_pdf
from dashboard.reports.snapshot import ReportSubjectGone, report_snapshot
from integrations.alerts.conditions import Condition
from integrations.alerts.engine import alert_raise_now, alert_resolve_key
from integrations.alerts.notify import render_text

log = logging.getLogger(__name__)
Status = ReportDelivery.Status
IN_FLIGHT = (Status.QUEUED, Status.SENDING)


class DeliveryRefused(Exception):
    """A delivery action that does not apply (already sent, not held, no recipients)."""


def _alert_key(report_pk: int) -> str:
    return f"report.failed:{report_pk}"


def _enqueue(delivery: ReportDelivery, *, now: datetime) -> None:
    """Hand a queued delivery to the worker once the row is committed (the worker must find it)."""
    pk = delivery.pk
    ReportDelivery.objects.filter(pk=pk).update(handed_at=now)
    transaction.on_commit(lambda: async_task("dashboard.reports.tasks.delivery_send", pk,
                                             task_name=f"report-delivery-{pk}"))


def report_deliver(report: Report, *, now: datetime, trigger: str, user: Any = None,
                   recipients: list[str] | None = None) -> ReportDelivery:
    """Take the report's snapshot now and queue it for the worker, or hold it when the report asks for review
    first (only scheduled mailings are held: a person who presses Send has reviewed it). The scheduler, already
    in the worker, sends at once."""
    to = recipients if recipients is not None else report.recipient_list
    if trigger == "manual" and any(d.recipients == to for d in ReportDelivery.objects.filter(
            report=report, trigger="manual", status__in=IN_FLIGHT).only("recipients")):
        raise DeliveryRefused("This report is already on its way to these recipients.")
    base = {"report": report, "trigger": trigger, "recipients": to, "created_at": now,
            "requested_by": user if getattr(user, "pk", None) else None}
    try:
        snapshot = report_snapshot(report, now=now)
    except ReportSubjectGone as exc:
        delivery = ReportDelivery.objects.create(**base, status=Status.FAILED, error=str(exc),
                                                 period_start=now.date(), period_end=now.date())
        _failed(delivery, now)
        return delivery
    held = trigger == "schedule" and report.review_before_send
    delivery = ReportDelivery.objects.create(
        **base, status=Status.HELD if held else Status.QUEUED, snapshot=snapshot, handed_at=None if held else now,
        period_start=snapshot["period"]["start"], period_end=snapshot["period"]["end"])
    if held:
        return delivery
    if trigger == "schedule":
        delivery_send(delivery.pk, now=now)
        delivery.refresh_from_db()
    else:
        _enqueue(delivery, now=now)
    return delivery


def delivery_send(delivery_pk: int, *, now: datetime | None = None) -> str:
    """The worker's half: claim a queued delivery (queued -> sending, a conditional UPDATE), render its PDF and
    mail it. A retried task, or a second worker, finds nothing to claim and sends nothing. Answers the status."""
    now = now or timezone.now()
    if not ReportDelivery.objects.filter(pk=delivery_pk, status=Status.QUEUED).update(
            status=Status.SENDING, progress="Rendering the PDF", handed_at=now):
        return "not queued"
    delivery = ReportDelivery.objects.select_related("report").get(pk=delivery_pk)
    _send(delivery, now)
    return delivery.status


# A mailing takes seconds; one still "sending" after this lost its worker (killed, machine gone).
SENDING_STALE = timedelta(minutes=15)
# A queued mailing no worker has claimed after this lost its task (a broker emptied, a task deleted).
QUEUED_STALE = timedelta(minutes=15)
INTERRUPTED = ("The worker stopped while mailing this report, so the client may or may not have it. "
               "Check with them, or send it again.")


def deliveries_recover(*, now: datetime) -> dict[str, int]:
    """Nothing stays in flight for ever: a mailing whose worker died mid-send is marked failed (it may have
    left, so it is never sent again on its own: the admins are alerted and decide), and a queued one whose
    task went missing is queued again (the claim in delivery_send makes a duplicate task harmless)."""
    interrupted = 0
    for delivery in ReportDelivery.objects.filter(status=Status.SENDING, handed_at__lt=now - SENDING_STALE):
        if ReportDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
                status=Status.FAILED, error=INTERRUPTED, progress=""):
            delivery.refresh_from_db()
            _failed(delivery, now)
            interrupted += 1
    requeued = 0
    for delivery in ReportDelivery.objects.filter(
            Q(handed_at__lt=now - QUEUED_STALE) | Q(handed_at__isnull=True), status=Status.QUEUED):
        _enqueue(delivery, now=now)
        requeued += 1
    return {"interrupted": interrupted, "requeued": requeued}


def delivery_approve(delivery: ReportDelivery, *, user: Any, now: datetime) -> ReportDelivery:
    if not ReportDelivery.objects.filter(pk=delivery.pk, status=Status.HELD).update(
            status=Status.QUEUED, approved_by=user):
        raise DeliveryRefused("This report is no longer waiting for review.")
    delivery.refresh_from_db()
    _enqueue(delivery, now=now)
    return delivery


def delivery_discard(delivery: ReportDelivery, *, user: Any) -> None:
    if not ReportDelivery.objects.filter(pk=delivery.pk, status=Status.HELD).update(
            status=Status.DISCARDED, approved_by=user):
        raise DeliveryRefused("This report is no longer waiting for review.")


def delivery_resend(delivery: ReportDelivery, *, user: Any, now: datetime) -> ReportDelivery:
    """Send the same snapshot again as a new delivery (a failed or bounced one, or a copy of a sent one)."""
    if delivery.status in (Status.HELD, *IN_FLIGHT) or not delivery.snapshot:
        raise DeliveryRefused("Only a sent, failed or bounced mailing can be sent again.")
    if ReportDelivery.objects.filter(resend_of=delivery, status__in=IN_FLIGHT).exists():
        raise DeliveryRefused("A copy of this mailing is already on its way.")
    again = ReportDelivery.objects.create(
        report=delivery.report, status=Status.QUEUED, trigger="resend", recipients=delivery.report.recipient_list
        or delivery.recipients, period_start=delivery.period_start, period_end=delivery.period_end,
        snapshot=delivery.snapshot, created_at=now, requested_by=user if getattr(user, "pk", None) else None,
        resend_of=delivery)
    _enqueue(again, now=now)
    return again


def _message(delivery: ReportDelivery) -> EmailMultiAlternatives:
    snapshot, branding = delivery.snapshot, Branding.current()
    brand = branding_context(branding)
    context = {"r": snapshot, "brand": {**brand, "logo_src": "cid:logo" if brand["logo_src"] else None},
               "delivery": delivery}
    sender = brand["agency_name"] or "Tagscope"
    visible_from = f"{sender} <{_address(settings.DEFAULT_FROM_EMAIL)}>"
    envelope = bounce_address(delivery.pk)  # VERP: a later DSN names this delivery
    headers = {"From": visible_from, "Message-ID": make_msgid(bounce_token(delivery.pk),
                                                              domain=envelope.rsplit("@", 1)[1])} if envelope else {}
    message = EmailMultiAlternatives(
        subject=f"{snapshot['title']}: {snapshot['period']['start']} to {snapshot['period']['end']}"[:200],
        body=render_text("email/report.txt", context), to=delivery.recipients,
        from_email=envelope or visible_from, headers=headers)
    message.attach_alternative(render_to_string("email/report.html", context), "text/html")
    message.mixed_subtype = "related"
    if brand["logo_src"]:
        logo = MIMEImage(bytes(branding.logo_png), "png")
        logo.add_header("Content-ID", "<logo>")
        logo.add_header("Content-Disposition", "inline", filename="logo.png")
        message.attach(logo)
    message.attach(report_filename(snapshot, "pdf"), report_pdf(snapshot, branding=branding),
                   "application/pdf")
    return message


def _address(from_email: str) -> str:
    return from_email.rsplit("<", 1)[-1].rstrip(">").strip()


def _send(delivery: ReportDelivery, now: datetime) -> None:
    if not delivery.recipients:
        _record(delivery, Status.FAILED, now, error="The report has no recipients.")
        return
    try:
        message = _message(delivery)
        ReportDelivery.objects.filter(pk=delivery.pk).update(progress="Handing it to the mail server")
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        refused = sorted(exc.recipients)
        _record(delivery, Status.BOUNCED, now, bounced=refused,
                error=f"The mail server refused {', '.join(refused)}.")
        return
    except Exception as exc:  # the mail server is down, refuses us, or the PDF could not be made
        log.exception("report %s: mailing %s failed", delivery.report_id, delivery.pk)
        _record(delivery, Status.FAILED, now, error=f"{type(exc).__name__}: {exc}"[:500])
        return
    _record(delivery, Status.SENT, now)


def _record(delivery: ReportDelivery, status: str, now: datetime, *, error: str = "",
            bounced: list[str] | None = None) -> None:
    ReportDelivery.objects.filter(pk=delivery.pk).update(
        status=status, error=error, bounced=bounced or [], sent_at=now if status == Status.SENT else None,
        progress="")
    delivery.refresh_from_db()
    if status == Status.SENT:
        alert_resolve_key(_alert_key(delivery.report_id), note="The report was mailed.", now=now)
    else:
        _failed(delivery, now)


def delivery_bounced(delivery: ReportDelivery, *, now: datetime) -> None:
    """A bounce read after sending (bounces.py) alerts the admins as a failed send does."""
    _failed(delivery, now)


def _failed(delivery: ReportDelivery, now: datetime) -> None:
    report = delivery.report
    alert_raise_now(Condition(
        kind="report.failed", key=_alert_key(report.pk), title=f"Report “{report.name}” could not be mailed",
        detail=f"{delivery.get_status_display()}: {delivery.error}", location_id=report.location_id,
        context={"report_id": report.pk, "delivery_id": delivery.pk}), now=now)


def reports_send_due(*, now: datetime) -> int:
    """Mail every scheduled report whose time has come; each is claimed by moving its `next_send_at` on
    with a conditional UPDATE, so two schedulers mail it once. Answers how many were claimed."""
    deliveries_recover(now=now)
    claimed = 0
    for report in Report.objects.filter(next_send_at__lte=now).exclude(cadence="").select_related("location"):
        following = next_send_at(cadence=report.cadence, weekday=report.weekday, hour=report.send_hour,
                                 timezone_name=report.timezone_name, after=now)
        if not Report.objects.filter(pk=report.pk, next_send_at=report.next_send_at).update(next_send_at=following):
            continue
        claimed += 1
        try:
            report_deliver(report, now=now, trigger="schedule")
        except Exception:
            log.exception("report %s: scheduled mailing failed", report.pk)
    return claimed


def report_schedule_update(report: Report, *, now: datetime) -> None:
    """Recompute the next send time after the report's schedule (or its location's zone) changed."""
    report.next_send_at = next_send_at(cadence=report.cadence, weekday=report.weekday, hour=report.send_hour,
                                       timezone_name=report.timezone_name, after=now)
    Report.objects.filter(pk=report.pk).update(next_send_at=report.next_send_at)
