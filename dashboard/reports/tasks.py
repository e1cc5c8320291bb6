"""django-q2 entry points for reports (thin: the work is in dashboard/reports/mailing.py).

Reports render dashboard templates from dashboard selectors, so their job lives in dashboard, not in
integrations/tasks.py; `reports_schedule_ensure` keeps its schedule by name, like integrations/schedules.py."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

REPORTS_DUE = "tagscope.reports-due"  # scheduled report mail, checked every minute
REPORT_BOUNCES = "tagscope.report-bounces"  # DSNs read from REPORT_BOUNCE_MAILBOX, every five minutes


def reports_due() -> int:
    from dashboard.reports.mailing import reports_send_due

    return reports_send_due(now=timezone.now())


def delivery_send(delivery_pk: int) -> str:
    """One report mailing queued by a page (Send now, Approve, Send again)."""
    from dashboard.reports.mailing import delivery_send as send

    return send(delivery_pk)


def report_bounces_read() -> dict[str, int]:
    from dashboard.reports.bounces import bounces_read

    return bounces_read(now=timezone.now())


def reports_schedule_ensure(**_: Any) -> None:
    """The minute tick that mails due reports, and the bounce mailbox's read (nothing to do while
    REPORT_BOUNCE_MAILBOX is unset); safe to call at every migrate."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(name=REPORTS_DUE, defaults={
        "func": "dashboard.reports.tasks.reports_due", "schedule_type": Schedule.MINUTES, "minutes": 1,
        "repeats": -1})
    Schedule.objects.update_or_create(name=REPORT_BOUNCES, defaults={
        "func": "dashboard.reports.tasks.report_bounces_read", "schedule_type": Schedule.MINUTES, "minutes": 5,
        "repeats": -1})
