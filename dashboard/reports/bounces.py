"""Bounces that arrive after sending: delivery status notifications (RFC 3464) read from a mailbox.

Each report mail is sent with its own envelope sender (VERP): `bounces+tsr-<delivery>-<sig>@domain` when
REPORT_BOUNCE_ADDRESS is `bounces@domain`, and a Message-ID carrying the same token, so a DSN names the
delivery in the address it is sent to, or in the headers of the message it returns. The signature (an HMAC of
the delivery id with SECRET_KEY) keeps a forged bounce from marking another mailing.

`bounces_read` reads unseen messages from REPORT_BOUNCE_MAILBOX (an `imap://` or `imaps://` URL read with
imaplib, or a maildir path for development and tests), marks each seen once handled, whatever the outcome,
and never deletes one: a malformed message is logged with its reason and left for a person. Recording is
idempotent: the same DSN read twice finds its recipient and status already recorded and changes nothing.
A recipient whose Action is `failed` marks the delivery bounced (its Status class says permanent, 5.x.x, or
transient, 4.x.x, the server having given up); `delayed` is noted on the row without changing its status."""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import hmac
import imaplib
import logging
import mailbox
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction

from dashboard.reports.models import ReportDelivery

log = logging.getLogger(__name__)
TOKEN_RE = re.compile(r"tsr-(\d{1,12})-([0-9a-f]{12})")
ADDRESS_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")
RETURNED_HEADERS = ("Message-ID", "Return-Path")


class NotADsn(ValueError):
    """A message in the bounce mailbox that is not a readable delivery status notification."""


@dataclass(frozen=True)
class Bounce:
    delivery_pk: int | None  # None: no valid token anywhere in the message
    recipient: str
    action: str  # failed or delayed
    status: str  # e.g. 5.1.1
    diagnostic: str

    @property
    def permanent(self) -> bool:
        return self.status.startswith("5")

    def as_dict(self) -> dict[str, object]:
        return {"recipient": self.recipient, "action": self.action, "status": self.status,
                "permanent": self.permanent, "diagnostic": self.diagnostic}


def bounce_token(delivery_pk: int) -> str:
    sig = hmac.new(settings.SECRET_KEY.encode(), f"report-bounce:{delivery_pk}".encode(), hashlib.sha256)
    return f"tsr-{delivery_pk}-{sig.hexdigest()[:12]}"


def bounce_address(delivery_pk: int) -> str | None:
    """The envelope sender of one delivery's mail; None when REPORT_BOUNCE_ADDRESS is not set."""
    base = settings.REPORT_BOUNCE_ADDRESS
    if not base or "@" not in base:
        return None
    local, domain = base.rsplit("@", 1)
    return f"{local}+{bounce_token(delivery_pk)}@{domain}"


def _delivery_in(text: str) -> int | None:
    for pk, sig in TOKEN_RE.findall(text or ""):
        if hmac.compare_digest(bounce_token(int(pk)), f"tsr-{pk}-{sig}"):
            return int(pk)
    return None


def _returned_headers(message: Message) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == "text/rfc822-headers":
            return email.message_from_string(part.get_content(), policy=email.policy.default)
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            return inner[0] if isinstance(inner, list) else inner
    return None


def _delivery_of(message: Message) -> int | None:
    for name in ADDRESS_HEADERS:
        for value in message.get_all(name) or []:
            if (found := _delivery_in(str(value))) is not None:
                return found
    returned = _returned_headers(message)
    if returned is not None:
        for name in RETURNED_HEADERS:
            if (found := _delivery_in(str(returned.get(name, "")))) is not None:
                return found
    return None


def _field(block: Message, name: str) -> str:
    value = str(block.get(name, "") or "").strip()
    return value.split(";", 1)[1].strip() if name in ("Final-Recipient", "Original-Recipient",
                                                      "Diagnostic-Code") and ";" in value else value


def dsn_parse(raw: bytes) -> list[Bounce]:
    """The failed and delayed recipients of one DSN. Raises NotADsn, saying why, for anything else."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # the parser is lenient; this guards the odd defect it still raises on
        raise NotADsn(f"unreadable message ({type(exc).__name__})") from None
    if message.get_content_type() != "multipart/report":
        raise NotADsn(f"not a multipart/report but {message.get_content_type()}")
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        raise NotADsn("a multipart/report that is not a delivery-status report")
    status = next((p for p in message.walk() if p.get_content_type() == "message/delivery-status"), None)
    blocks = status.get_payload() if status is not None else None
    if not isinstance(blocks, list) or len(blocks) < 2:
        raise NotADsn("no per-recipient fields in its message/delivery-status part")
    delivery_pk = _delivery_of(message)
    found = []
    for block in blocks[1:]:  # the first block holds the per-message fields
        action = _field(block, "Action").lower()
        recipient = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
        code = _field(block, "Status")
        if not recipient or not re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", code.split()[0] if code else ""):
            raise NotADsn("a recipient block without Final-Recipient or a valid Status")
        if action in ("failed", "delayed"):
            found.append(Bounce(delivery_pk=delivery_pk, recipient=recipient.lower(), action=action,
                                status=code.split()[0], diagnostic=_field(block, "Diagnostic-Code")[:300]))
    return found


def bounce_record(bounce: Bounce, *, now: datetime) -> str:
    """Record one bounced recipient on its delivery: "recorded", "known" (read before) or "unmatched"."""
    from dashboard.reports.mailing import delivery_bounced

    if bounce.delivery_pk is None:
        return "unmatched"
    with transaction.atomic():
        delivery = ReportDelivery.objects.select_for_update().filter(pk=bounce.delivery_pk).first()
        if delivery is None:
            return "unmatched"
        if any(b.get("recipient") == bounce.recipient and b.get("status") == bounce.status
               and b.get("action") == bounce.action for b in delivery.bounce_reports):
            return "known"
        fields = {"bounce_reports": [*delivery.bounce_reports, bounce.as_dict()]}
        failed = bounce.action == "failed"
        if failed:
            fields.update(status=ReportDelivery.Status.BOUNCED,
                          bounced=sorted({*delivery.bounced, bounce.recipient}),
                          error=f"{bounce.recipient}: {bounce.status} "
                                f"({'permanent' if bounce.permanent else 'transient'}) {bounce.diagnostic}"[:500])
        ReportDelivery.objects.filter(pk=delivery.pk).update(**fields)
    if failed:
        delivery.refresh_from_db()
        delivery_bounced(delivery, now=now)
    return "recorded"


# --- Mailboxes ------------------------------------------------------------------------------------------------
def _maildir(path: str) -> Iterator[tuple[bytes, Callable[[], object]]]:
    box = mailbox.Maildir(path, create=False)
    for key in list(box.keys()):
        msg = box[key]
        if "S" in msg.get_flags():
            continue

        def seen(key=key, msg=msg):
            msg.add_flag("S")
            msg.set_subdir("cur")
            box[key] = msg
        yield box.get_bytes(key), seen


def _imap(url: str) -> Iterator[tuple[bytes, Callable[[], object]]]:
    parts = urlsplit(url)
    connect = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    client = connect(parts.hostname, parts.port or (993 if parts.scheme == "imaps" else 143))
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        client.select(unquote(parts.path.lstrip("/")) or "INBOX")
        _status, data = client.uid("SEARCH", None, "UNSEEN")
        for uid in (data[0] or b"").split():
            _status, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if raw is not None:
                yield raw, lambda uid=uid: client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        with contextlib.suppress(Exception):  # already closed: nothing to lose
            client.logout()


def mailbox_unseen(location: str) -> Iterator[tuple[bytes, Callable[[], object]]]:
    """(raw message, mark it seen) for each unseen message of an imap(s):// URL or a maildir path."""
    if location.startswith(("imap://", "imaps://")):
        return _imap(location)
    return _maildir(location.removeprefix("maildir://"))


def bounces_read(*, now: datetime, location: str | None = None) -> dict[str, int]:
    """Read the bounce mailbox once; counts of what each message came to."""
    location = location or settings.REPORT_BOUNCE_MAILBOX
    counts = {"recorded": 0, "known": 0, "unmatched": 0, "not_dsn": 0}
    if not location:
        return counts
    for raw, seen in mailbox_unseen(location):
        try:
            bounces = dsn_parse(raw)
        except NotADsn as exc:
            log.warning("bounce mailbox: a message left unread as a bounce: %s", exc)
            counts["not_dsn"] += 1
        else:
            for bounce in bounces:
                outcome = bounce_record(bounce, now=now)
                counts[outcome] += 1
                if outcome == "unmatched":
                    log.info("bounce mailbox: a bounce for %s matches no report mailing", bounce.recipient)
        seen()
    return counts
