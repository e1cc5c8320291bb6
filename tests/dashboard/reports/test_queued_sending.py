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


def test_a_mailing_whose_worker_died_is_failed_with_an_alert_and_can_be_sent_again(full_location, admin_user,
                                                                                      clock):
    from datetime import timedelta

    from dashboard.reports.mailing import SENDING_STALE, deliveries_recover
    from integrations.models import Alert

    start = datetime.now(UTC)
    delivery = report_deliver(report_make(full_location), now=start, trigger="manual", recipients=["a@example.com"])
    # The worker claimed it and was killed before it recorded anything.
    ReportDelivery.objects.filter(pk=delivery.pk).update(status=Status.SENDING, handed_at=start)
    assert deliveries_recover(now=start + SENDING_STALE - timedelta(seconds=1)) == {"interrupted": 0, "requeued": 0}
    delivery.refresh_from_db()
    assert delivery.status == Status.SENDING  # still within what a mailing may take

    assert deliveries_recover(now=start + SENDING_STALE + timedelta(seconds=1))["interrupted"] == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and "may or may not have it" in delivery.error
    assert Alert.objects.filter(kind="report.failed").exists()
    assert not mail.outbox or all(m.to != ["a@example.com"] for m in mail.outbox)  # never re-sent on its own
    assert deliveries_recover(now=start + 2 * SENDING_STALE)["interrupted"] == 0  # once
    copy = delivery_resend(delivery, user=admin_user, now=start + 2 * SENDING_STALE)
    assert delivery_send(copy.pk) == Status.SENT


def test_a_queued_mailing_whose_task_was_lost_is_queued_again_and_still_sent_once(full_location, clock, monkeypatch,
                                                                                  django_capture_on_commit_callbacks):
    from datetime import timedelta

    from dashboard.reports import mailing

    handed = []
    monkeypatch.setattr(mailing, "async_task", lambda func, pk, **kwargs: handed.append(pk))
    start = datetime.now(UTC)
    delivery = report_deliver(report_make(full_location), now=start, trigger="manual", recipients=["a@example.com"])
    handed.clear()  # the broker lost that task (or, on the ORM broker in tests, it never runs)
    assert mailing.deliveries_recover(now=start + timedelta(minutes=5))["requeued"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert mailing.deliveries_recover(now=start + mailing.QUEUED_STALE + timedelta(seconds=1))["requeued"] == 1
    # Handed again, so the next minutes' sweeps leave it to the worker until another quarter hour passes.
    assert mailing.deliveries_recover(now=start + mailing.QUEUED_STALE + timedelta(minutes=1))["requeued"] == 0
    assert handed == [delivery.pk]
    assert delivery_send(delivery.pk) == Status.SENT and delivery_send(delivery.pk) == "not queued"
    assert len([m for m in mail.outbox if m.to == ["a@example.com"]]) == 1
