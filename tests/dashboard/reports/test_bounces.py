"""Bounces read after sending: each report mail carries its own envelope sender and Message-ID, and the worker
reads DSNs (real multipart/report samples in dsn/) from a maildir, marking the delivery bounced once however
often it reads the same one; a malformed message and one that matches nothing are logged and kept."""

from __future__ import annotations

import logging
import mailbox
from datetime import UTC, datetime
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.core import mail

from dashboard.reports import tasks
from dashboard.reports.bounces import bounce_address, bounce_token, bounces_read, dsn_parse
from dashboard.reports.mailing import delivery_resend, delivery_send, report_deliver
from dashboard.reports.models import ReportDelivery
from integrations.models import Alert
from tests.dashboard.reports.conftest import report_make

SAMPLES = Path(__file__).parent / "dsn"
Status = ReportDelivery.Status


@pytest.fixture
def bounce_settings(settings, tmp_path):
    settings.REPORT_BOUNCE_ADDRESS = "bounces@example.net"
    settings.REPORT_BOUNCE_MAILBOX = str(tmp_path / "Maildir")
    mailbox.Maildir(settings.REPORT_BOUNCE_MAILBOX, create=True)
    return settings


@pytest.fixture
def sent(full_location, clock, bounce_settings):
    report = report_make(full_location, recipients="client@example.com\nboss@example.com")
    delivery = report_deliver(report, now=datetime.now(UTC), trigger="manual")
    assert delivery_send(delivery.pk) == Status.SENT
    return ReportDelivery.objects.get(pk=delivery.pk)


def plant(settings, name: str, delivery_pk: int | None) -> None:
    text = (SAMPLES / name).read_text()
    if delivery_pk is not None:
        text = text.replace("{VERP}", bounce_address(delivery_pk)).replace(
            "{MSGID}", make_msgid(bounce_token(delivery_pk), domain="example.net"))
    else:
        text = text.replace("{VERP}", "bounces@example.net").replace("{MSGID}", "<unknown@example.net>")
    mailbox.Maildir(settings.REPORT_BOUNCE_MAILBOX).add(text.encode())


def test_each_mail_carries_its_own_envelope_sender_and_message_id(sent):
    message = mail.outbox[-1]
    token = bounce_token(sent.pk)
    assert message.from_email == f"bounces+{token}@example.net"  # the envelope sender (Return-Path)
    assert message.extra_headers["From"].endswith("<tagscope@localhost>")
    assert token in message.message()["Message-ID"] and message.message()["From"] != message.from_email


def test_a_permanent_bounce_marks_the_delivery_alerts_and_reads_once(sent, bounce_settings, clock):
    plant(bounce_settings, "permanent.eml", sent.pk)
    assert tasks.report_bounces_read() == {"recorded": 1, "known": 0, "unmatched": 0, "not_dsn": 0}
    sent.refresh_from_db()
    assert sent.status == Status.BOUNCED and sent.bounced == ["client@example.com"]
    assert sent.bounce_reports == [{"recipient": "client@example.com", "action": "failed", "status": "5.1.1",
                                    "permanent": True, "diagnostic": sent.bounce_reports[0]["diagnostic"]}]
    assert "User unknown" in sent.bounce_reports[0]["diagnostic"] and "permanent" in sent.error
    assert Alert.objects.filter(kind="report.failed", state=Alert.State.OPEN).count() == 1

    plant(bounce_settings, "permanent.eml", sent.pk)  # the same DSN again (a second copy in the mailbox)
    assert bounces_read(now=datetime.now(UTC)) == {"recorded": 0, "known": 1, "unmatched": 0, "not_dsn": 0}
    assert bounces_read(now=datetime.now(UTC)) == {"recorded": 0, "known": 0, "unmatched": 0, "not_dsn": 0}
    again = ReportDelivery.objects.get(pk=sent.pk)
    assert again.bounce_reports == sent.bounce_reports and again.bounced == sent.bounced


def test_a_transient_failure_is_matched_by_the_returned_message_id(sent, bounce_settings):
    plant(bounce_settings, "transient.eml", sent.pk)  # sent to the plain address: only the Message-ID tells
    assert bounces_read(now=datetime.now(UTC))["recorded"] == 1  # the "delivered" recipient is not a bounce
    sent.refresh_from_db()
    assert sent.status == Status.BOUNCED and sent.bounced == ["boss@example.com"]
    assert sent.bounce_reports[0]["status"] == "4.2.2" and sent.bounce_reports[0]["permanent"] is False


def test_malformed_and_unmatched_messages_are_logged_and_kept(sent, bounce_settings, caplog):
    plant(bounce_settings, "malformed.eml", sent.pk)
    plant(bounce_settings, "vacation.eml", sent.pk)
    plant(bounce_settings, "permanent.eml", None)  # a bounce of some other mail
    with caplog.at_level(logging.INFO, logger="dashboard.reports.bounces"):
        counts = bounces_read(now=datetime.now(UTC))
    assert counts == {"recorded": 0, "known": 0, "unmatched": 1, "not_dsn": 2}
    assert "without Final-Recipient or a valid Status" in caplog.text and "not a multipart/report" in caplog.text
    assert "matches no report mailing" in caplog.text
    assert len(mailbox.Maildir(bounce_settings.REPORT_BOUNCE_MAILBOX)) == 3  # nothing deleted, all marked seen
    sent.refresh_from_db()
    assert sent.status == Status.SENT


def test_a_forged_token_matches_nothing(sent):
    raw = (SAMPLES / "permanent.eml").read_text().replace("{VERP}", f"bounces+tsr-{sent.pk}-000000000000@x.net")
    raw = raw.replace("{MSGID}", "<x@x.net>")
    assert [b.delivery_pk for b in dsn_parse(raw.encode())] == [None]


def test_the_log_shows_the_bounce_and_send_again_works(sent, bounce_settings, marketer_http, admin_user):
    plant(bounce_settings, "permanent.eml", sent.pk)
    bounces_read(now=datetime.now(UTC))
    assert "Bounced" in marketer_http.get("/reports/mailings/").text
    page = marketer_http.get(f"/reports/mailings/{sent.pk}/").text
    assert "client@example.com: failed, 5.1.1 (permanent)" in page and "Send again" in page
    copy = delivery_resend(ReportDelivery.objects.get(pk=sent.pk), user=admin_user, now=datetime.now(UTC))
    assert delivery_send(copy.pk) == Status.SENT


def test_without_a_mailbox_nothing_is_read(db, settings):
    settings.REPORT_BOUNCE_MAILBOX = ""
    assert tasks.report_bounces_read() == {"recorded": 0, "known": 0, "unmatched": 0, "not_dsn": 0}


def test_bounces_are_read_from_an_imap_mailbox_over_a_real_socket(sent, bounce_settings, clock):
    """The imap:// reader against an IMAP server on 127.0.0.1: it logs in with the URL's (quoted) user and
    password, reads unseen messages without marking them by reading, and flags each one seen once handled."""
    from urllib.parse import quote

    from tests.support.imap_server import imap_server

    text = (SAMPLES / "permanent.eml").read_text().replace("{VERP}", bounce_address(sent.pk)).replace(
        "{MSGID}", make_msgid(bounce_token(sent.pk), domain="example.net"))
    with imap_server() as (box, port):
        box.add(text.encode())
        box.add(b"From: someone@example.com\r\nSubject: out of office\r\n\r\nAway until Monday.\r\n")
        url = f"imap://{box.user}:{quote(box.password, safe='')}@127.0.0.1:{port}/INBOX"
        assert bounces_read(now=datetime.now(UTC), location=url) == {
            "recorded": 1, "known": 0, "unmatched": 0, "not_dsn": 1}
        assert box.logins == [("bounces", "s3cret p@ss")] and box.selected == ["INBOX"]
        assert box.seen == {1, 2}
        assert bounces_read(now=datetime.now(UTC), location=url) == {
            "recorded": 0, "known": 0, "unmatched": 0, "not_dsn": 0}  # nothing unseen is left
    sent.refresh_from_db()
    assert sent.status == Status.BOUNCED and sent.bounced == ["client@example.com"]


def test_a_wrong_imap_password_is_a_clear_error_that_names_no_secret(sent, bounce_settings):
    import imaplib

    from tests.support.imap_server import imap_server

    with imap_server() as (box, port), pytest.raises(imaplib.IMAP4.error) as raised:
        bounces_read(now=datetime.now(UTC), location=f"imap://bounces:wrong-pass@127.0.0.1:{port}/")
    assert "AUTHENTICATIONFAILED" in str(raised.value) and "wrong-pass" not in str(raised.value)
    assert not box.seen
