"""Scheduled report mail: send times in the location's zone across daylight-saving changes (frozen clock),
the due check, review before sending, the delivery log, bounces, failures alerting the admins, resend."""

from __future__ import annotations

import io
import smtplib
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from pypdf import PdfReader

from dashboard.reports import mailing
from dashboard.reports.mailing import (
    DeliveryRefused,
    delivery_approve,
    delivery_resend,
    report_deliver,
    report_schedule_update,
    reports_send_due,
)
from dashboard.reports.models import ReportDelivery
from dashboard.reports.periods import next_send_at
from integrations.models import Alert
from tests.dashboard.reports.conftest import image_bytes, report_make, upload

Status = ReportDelivery.Status


def failing_mail(error: Exception):
    """The report's message fails to send with `error`; the admins' alert mail still goes out."""
    return mock.patch.object(mailing, "_message", return_value=mock.Mock(send=mock.Mock(side_effect=error)))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "after", "expected"), [
    # London: Mondays 08:00 local are 08:00 UTC in winter, 07:00 UTC once clocks go forward (29 March 2026)
    ("Europe/London", utc(2026, 3, 23, 9), utc(2026, 3, 30, 7)),
    ("Europe/London", utc(2026, 3, 16, 9), utc(2026, 3, 23, 8)),
    # ...and back on 25 October 2026
    ("Europe/London", utc(2026, 10, 20, 0), utc(2026, 10, 26, 8)),
    ("Europe/London", utc(2026, 10, 12, 6, 59), utc(2026, 10, 12, 7)),  # 08:00 BST is 07:00 UTC
    # New York: clocks go forward on 8 March 2026
    ("America/New_York", utc(2026, 3, 3, 0), utc(2026, 3, 9, 12)),
    ("America/New_York", utc(2026, 3, 1, 0), utc(2026, 3, 2, 13)),
    # Sydney: Monday 08:00 is Sunday evening UTC; clocks go back on 5 April 2026
    ("Australia/Sydney", utc(2026, 3, 31, 0), utc(2026, 4, 5, 22)),
    ("Australia/Sydney", utc(2026, 3, 25, 0), utc(2026, 3, 29, 21)),
])
def test_a_weekly_report_goes_at_eight_local_whatever_the_season(zone, after, expected):
    assert next_send_at(cadence="weekly", weekday=0, hour=8, timezone_name=zone, after=after) == expected


def test_a_monthly_report_goes_on_the_first_at_the_local_hour():
    after = utc(2026, 3, 10)
    assert next_send_at(cadence="monthly", weekday=0, hour=8, timezone_name="Europe/London", after=after) == \
        utc(2026, 4, 1, 7)
    # 1 November 2026 is the day Los Angeles goes back to PST (at 02:00): 08:00 that morning is UTC-8
    assert next_send_at(cadence="monthly", weekday=0, hour=8, timezone_name="America/Los_Angeles",
                        after=utc(2026, 10, 15)) == utc(2026, 11, 1, 16)
    # Auckland's 1 April 00:00 (NZDT, UTC+13) is 31 March 11:00 UTC
    assert next_send_at(cadence="monthly", weekday=0, hour=0, timezone_name="Pacific/Auckland",
                        after=utc(2026, 3, 20)) == utc(2026, 3, 31, 11)


def test_an_hour_that_spring_forward_skips_is_sent_an_hour_later():
    # 29 March 2026 in London has no 01:00-02:00; a Sunday 01:00 report goes at 02:00 BST = 01:00 UTC
    assert next_send_at(cadence="weekly", weekday=6, hour=1, timezone_name="Europe/London",
                        after=utc(2026, 3, 28)) == utc(2026, 3, 29, 1)


def test_unscheduled_reports_have_no_send_time():
    assert next_send_at(cadence="", weekday=0, hour=8, timezone_name="UTC", after=utc(2026, 1, 1)) is None


@pytest.fixture
def scheduled(full_location, clock):
    report = report_make(full_location, cadence="weekly", weekday=0, send_hour=8,
                         recipients="client@example.com\nboss@example.com", period="7d")
    report_schedule_update(report, now=datetime.now(UTC))
    return report


def test_the_due_check_mails_each_report_once_at_its_time(scheduled, clock, admin_user):
    # NOW is Tuesday 10 March 2026 12:00 UTC; New York's next Monday 08:00 (EDT) is 16 March 12:00 UTC
    assert scheduled.next_send_at == utc(2026, 3, 16, 12)
    clock.move_to(utc(2026, 3, 16, 11, 59))
    assert reports_send_due(now=datetime.now(UTC)) == 0 and not mail.outbox
    clock.move_to(utc(2026, 3, 16, 12, 0, 30))
    assert reports_send_due(now=datetime.now(UTC)) == 1
    assert reports_send_due(now=datetime.now(UTC)) == 0  # claimed: a second tick sends nothing
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["client@example.com", "boss@example.com"]
    pdf = next(a for a in message.attachments if getattr(a, "mimetype", None) == "application/pdf"
               or (isinstance(a, tuple) and a[2] == "application/pdf"))
    data = pdf.content if hasattr(pdf, "content") else pdf[1]
    assert "Monthly report" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    delivery = ReportDelivery.objects.get()
    assert delivery.status == Status.SENT and delivery.trigger == "schedule"
    assert (delivery.period_start.isoformat(), delivery.period_end.isoformat()) == ("2026-03-09", "2026-03-15")
    scheduled.refresh_from_db()
    assert scheduled.next_send_at == utc(2026, 3, 23, 12)


def test_review_before_send_holds_until_a_marketer_approves(scheduled, clock, marketer_user, worker):
    scheduled.review_before_send = True
    scheduled.save()
    clock.move_to(utc(2026, 3, 16, 12, 1))
    reports_send_due(now=datetime.now(UTC))
    held = ReportDelivery.objects.get()
    assert held.status == Status.HELD and not mail.outbox
    with worker():
        delivery_approve(held, user=marketer_user, now=datetime.now(UTC))
        held.refresh_from_db()
        assert held.status == Status.QUEUED and not mail.outbox  # the page answers before the worker sends
    held.refresh_from_db()
    assert held.status == Status.SENT and held.approved_by == marketer_user and len(mail.outbox) == 1
    with pytest.raises(DeliveryRefused):
        delivery_approve(held, user=marketer_user, now=datetime.now(UTC))  # approved once, sent once
    assert len(mail.outbox) == 1


def test_approving_sends_what_was_reviewed(scheduled, clock, marketer_http, marketer_user, worker):
    scheduled.review_before_send = True
    scheduled.note = "Reviewed words."
    scheduled.save()
    held = report_deliver(scheduled, now=datetime.now(UTC), trigger="schedule")
    scheduled.note = "Changed afterwards."
    scheduled.save()
    page = marketer_http.get(f"/reports/mailings/{held.pk}/")
    assert "Reviewed words." in page.text and "Approve and send" in page.text
    with worker():
        marketer_http.post(f"/reports/mailings/{held.pk}/approve/")
    assert "Reviewed words." in mail.outbox[0].body and "Changed afterwards." not in mail.outbox[0].body


def test_a_failure_is_logged_and_alerts_the_admins_then_a_resend_resolves_it(scheduled, clock, admin_user, worker):
    with failing_mail(smtplib.SMTPServerDisconnected("gone")):
        failed = report_deliver(scheduled, now=datetime.now(UTC), trigger="schedule")
    assert failed.status == Status.FAILED and "gone" in failed.error
    alert = Alert.objects.get(kind="report.failed")
    assert alert.state == Alert.State.OPEN and scheduled.name in alert.title
    assert [m.to for m in mail.outbox] == [["admin@example.com"]]  # the admins were told
    with worker():
        again = delivery_resend(failed, user=admin_user, now=datetime.now(UTC))
    again.refresh_from_db()
    assert again.status == Status.SENT and again.trigger == "resend" and again.snapshot == failed.snapshot
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED


def test_a_refused_recipient_is_recorded_as_bounced(scheduled, clock, worker):
    refused = smtplib.SMTPRecipientsRefused({"client@example.com": (550, b"No such user")})
    with failing_mail(refused), worker():
        delivery = report_deliver(scheduled, now=datetime.now(UTC), trigger="manual")
    delivery.refresh_from_db()
    assert delivery.status == Status.BOUNCED and delivery.bounced == ["client@example.com"]
    assert Alert.objects.filter(kind="report.failed").exists()


def test_a_report_without_recipients_fails_clearly(full_location, clock, worker):
    with worker():
        delivery = report_deliver(report_make(full_location), now=datetime.now(UTC), trigger="manual",
                                  recipients=[])
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and "no recipients" in delivery.error


def test_the_mail_is_branded(scheduled, clock, admin_http, worker):
    admin_http.post("/settings/branding/", {"agency_name": "Northwind Agency", "accent": "#aa3300",
                                            "footer": "Northwind · hello@northwind.example",
                                            "logo": upload("logo.png", image_bytes())})
    mail.outbox.clear()
    with worker():
        report_deliver(scheduled, now=datetime.now(UTC), trigger="manual")
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert "Northwind Agency" in message.from_email and "#aa3300" in html and "cid:logo" in html
    assert "Northwind · hello@northwind.example" in message.body


def test_sending_from_the_page(full_location, marketer_http, clock, worker):
    report = report_make(full_location)
    with worker():
        response = marketer_http.post(f"/reports/{report.pk}/send/",
                                      {"recipients": "a@example.com, b@example.com"}, follow=True)
        assert "Queued for a@example.com, b@example.com" in response.text and not mail.outbox
        assert '<meta http-equiv="refresh"' in response.text
    delivery = ReportDelivery.objects.get()
    assert delivery.status == Status.SENT and "Sent" in marketer_http.get(f"/reports/mailings/{delivery.pk}/").text
    assert mail.outbox[0].to == ["a@example.com", "b@example.com"]
    response = marketer_http.post(f"/reports/{report.pk}/send/", {"recipients": "not an address"}, follow=True)
    assert "is not an email address" in response.text and len(mail.outbox) == 1


def test_time_machine_is_frozen_in_these_tests(clock):
    first = datetime.now(UTC)
    with time_machine.travel(first + timedelta(days=1), tick=False):
        assert datetime.now(UTC) == first + timedelta(days=1)
