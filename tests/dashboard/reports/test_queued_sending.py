"""Send now, Approve and Send again answer at once: the row is queued and django-q2's task renders and mails
it. A double click, or a task run twice, sends once; the mailing log shows queued, sending with its step,
then sent."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime

import pytest
from django.core import mail

from dashboard.reports import tasks
from dashboard.reports.mailing import DeliveryRefused, delivery_resend, delivery_send, report_deliver
from dashboard.reports.models import ReportDelivery
from tests.dashboard.reports.conftest import report_make
from tests.dashboard.reports.test_schedules import failing_mail

Status = ReportDelivery.Status


def test_send_now_queues_and_the_task_sends_once(full_location, marketer_http, clock):
    report = report_make(full_location)
    response = marketer_http.post(f"/reports/{report.pk}/send/", {"recipients": "a@example.com"}, follow=True)
    delivery = ReportDelivery.objects.get()
    assert delivery.status == Status.QUEUED and not mail.outbox and "Queued for a@example.com" in response.text
    log = marketer_http.get("/reports/mailings/")
    assert "Queued" in log.text and '<meta http-equiv="refresh"' in log.text

    again = marketer_http.post(f"/reports/{report.pk}/send/", {"recipients": "a@example.com"}, follow=True)
    assert "already on its way" in again.text and ReportDelivery.objects.count() == 1  # a double click

    assert tasks.delivery_send(delivery.pk) == Status.SENT
    assert tasks.delivery_send(delivery.pk) == "not queued"  # a retried task finds nothing to claim
    assert len(mail.outbox) == 1
    log = marketer_http.get("/reports/mailings/")
    assert "Sent" in log.text and '<meta http-equiv="refresh"' not in log.text


def test_the_log_shows_the_step_a_sending_mailing_is_at(full_location, marketer_http, clock):
    delivery = report_deliver(report_make(full_location), now=datetime.now(UTC), trigger="manual",
                              recipients=["a@example.com"])
    ReportDelivery.objects.filter(pk=delivery.pk).update(status=Status.SENDING, progress="Rendering the PDF")
    log = marketer_http.get("/reports/mailings/").text
    assert "Sending" in log and "Rendering the PDF…" in log
    page = marketer_http.get(f"/reports/mailings/{delivery.pk}/").text
    assert "Sending: Rendering the PDF" in page and "Send again" not in page


def test_a_sending_row_is_claimed_once_even_by_two_workers(full_location, clock):
    delivery = report_deliver(report_make(full_location), now=datetime.now(UTC), trigger="manual",
                              recipients=["a@example.com"])
    ReportDelivery.objects.filter(pk=delivery.pk).update(status=Status.SENDING)  # another worker has it
    assert delivery_send(delivery.pk) == "not queued" and not mail.outbox


def test_send_again_queues_one_copy_at_a_time(full_location, admin_user, clock):
    report = report_make(full_location, recipients="client@example.com")
    with failing_mail(smtplib.SMTPServerDisconnected("gone")):
        failed = report_deliver(report, now=datetime.now(UTC), trigger="manual")
        delivery_send(failed.pk)
    failed.refresh_from_db()
    assert failed.status == Status.FAILED
    copy = delivery_resend(failed, user=admin_user, now=datetime.now(UTC))
    assert copy.status == Status.QUEUED and copy.resend_of == failed
    with pytest.raises(DeliveryRefused, match="already on its way"):
        delivery_resend(failed, user=admin_user, now=datetime.now(UTC))
    mail.outbox.clear()
    assert delivery_send(copy.pk) == Status.SENT
    assert [m.to for m in mail.outbox if m.to == ["client@example.com"]] == [["client@example.com"]]
    assert delivery_resend(failed, user=admin_user, now=datetime.now(UTC)).status == Status.QUEUED  # done: again


def test_the_task_is_enqueued_after_the_commit(full_location, clock, django_capture_on_commit_callbacks,
                                               monkeypatch):
    from dashboard.reports import mailing

    queued = []
    monkeypatch.setattr(mailing, "async_task", lambda *args, **kwargs: queued.append(args))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery = report_deliver(report_make(full_location), now=datetime.now(UTC), trigger="manual",
                                  recipients=["a@example.com"])
        assert not queued
    for callback in callbacks:
        callback()
    assert queued == [("dashboard.reports.tasks.delivery_send", delivery.pk)]
