"""Inbound HighLevel app webhooks (INSTALL / UNINSTALL): verified, de-duplicated, then applied.

Verification order: the signature (Ed25519 `X-GHL-Signature`; the legacy RSA `X-WH-Signature` only when
the Ed25519 header is absent and a legacy key is configured), an app configured (HIGHLEVEL_CLIENT_ID), the
body (`type`, `appId`, `webhookId` and `timestamp` required), the timestamp window, the app id, and the
`webhookId` replay check. A request failing any of them changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.connections.audit import audit_record
from integrations.highlevel.config import app_id_from_client_id
from integrations.models import AuditEntry, Connection, InboundWebhook, Location

log = logging.getLogger(__name__)

MAX_SKEW = timedelta(minutes=5)
ACTOR = "HighLevel webhook"


class WebhookRejected(Exception):
    def __init__(self, status: int, reason: str):
        self.status = status
        self.reason = reason
        super().__init__(reason)


def _load_key(pem: str) -> Any:
    try:
        return serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        log.error("a configured HighLevel webhook public key is not a PEM public key")
        return None


def _signature_valid(body: bytes, headers: Mapping[str, str]) -> bool:
    ghl = headers.get("X-GHL-Signature")
    if ghl:
        key = _load_key(settings.HIGHLEVEL_WEBHOOK_PUBLIC_KEY)
        if not isinstance(key, ed25519.Ed25519PublicKey):
            return False
        try:
            key.verify(base64.b64decode(ghl, validate=True), body)
            return True
        except (InvalidSignature, binascii.Error, ValueError):
            return False
    legacy = headers.get("X-WH-Signature")
    if legacy and settings.HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY:
        key = _load_key(settings.HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY)
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        try:
            key.verify(base64.b64decode(legacy, validate=True), body, padding.PKCS1v15(), hashes.SHA256())
            return True
        except (InvalidSignature, binascii.Error, ValueError):
            return False
    return False


def _parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime, or None for anything unreadable: NaN, infinities, numbers past year 9999, booleans."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = value / 1000 if value > 10**11 else value  # epoch milliseconds or seconds
            return datetime.fromtimestamp(seconds, tz=UTC)
        if isinstance(value, str) and value:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)  # year 1 at +14:00 (or 9999 at -12:00) does not fit: refused here
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _required_string(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise WebhookRejected(400, f"{key} missing")
    return value


def webhook_verify(body: bytes, headers: Mapping[str, str], *, now: datetime | None = None) -> dict[str, Any]:
    """The payload of a genuine, fresh webhook for our app, or WebhookRejected.

    Every type must carry `appId`, `timestamp` and `webhookId`: HighLevel signs every app's webhooks with the
    same key, so only the app id ties one to us, and only the window and the id stop a captured one (an
    UNINSTALL too) from being replayed later."""
    if not _signature_valid(body, headers):
        raise WebhookRejected(401, "invalid or missing signature")
    if not app_id_from_client_id(settings.HIGHLEVEL_CLIENT_ID):
        raise WebhookRejected(403, "no HighLevel app is configured (HIGHLEVEL_CLIENT_ID); webhooks are refused")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise WebhookRejected(400, "body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise WebhookRejected(400, "body is not a webhook object with a type")
    for key in ("appId", "webhookId"):
        _required_string(payload, key)
    if "timestamp" not in payload:
        raise WebhookRejected(400, "timestamp missing")
    sent_at = _parse_timestamp(payload["timestamp"])
    if sent_at is None:
        raise WebhookRejected(400, "timestamp unreadable")
    now = now or timezone.now()
    if abs(now - sent_at) > MAX_SKEW:
        raise WebhookRejected(401, "timestamp outside the 5-minute window")
    return payload


def _webhook_id(payload: Mapping[str, Any]) -> str:
    return payload["webhookId"][:100]


def webhook_receive(body: bytes, headers: Mapping[str, str], *, now: datetime | None = None) -> str:
    """Verify and apply one webhook; returns what was done. Raises WebhookRejected."""
    payload = webhook_verify(body, headers, now=now)
    if payload["appId"] != app_id_from_client_id(settings.HIGHLEVEL_CLIENT_ID):
        return "ignored: another app's event"
    kind = payload["type"]
    company_id = str(payload.get("companyId") or "")
    location_id = str(payload.get("locationId") or "")
    try:
        with transaction.atomic():
            receipt = InboundWebhook.objects.create(
                webhook_id=_webhook_id(payload), type=kind[:50], received_at=now or timezone.now(),
                company_id=company_id[:64], location_id=location_id[:64],
            )
            if kind == "INSTALL":
                outcome = _on_install(company_id, location_id)
            elif kind == "UNINSTALL":
                outcome = _on_uninstall(company_id, location_id)
            else:
                outcome = f"ignored: unhandled type {kind}"
            receipt.outcome = outcome[:200]
            receipt.save(update_fields=["outcome"])
    except IntegrityError:
        raise WebhookRejected(401, "webhookId already seen (replay)") from None
    log.info("HighLevel webhook %s company=%s location=%s: %s", kind, company_id, location_id, outcome)
    return outcome


def _on_install(company_id: str, location_id: str) -> str:
    agency = Connection.objects.usable().filter(kind=Connection.Kind.OAUTH_AGENCY, company_id=company_id).first()
    if agency is None:
        return "ignored: no agency connection for this company yet (connect it with OAuth)"
    from django_q.tasks import async_task

    if not location_id:
        transaction.on_commit(lambda: async_task("integrations.tasks.connection_discover_locations", agency.pk))
        return "agency install: locations will be listed"
    _location, created = Location.objects.update_or_create(
        location_id=location_id,
        defaults={"connection": agency, "company_id": company_id, "is_installed": True, "uninstalled_at": None},
        create_defaults={"connection": agency, "company_id": company_id, "name": f"Location {location_id}",
                         "installed_at": timezone.now()},
    )
    audit_record(action=AuditEntry.Action.INSTALLED, connection=agency, actor_label=ACTOR,
                 detail=f"App installed in location {location_id}")
    # Details (name, address) and a location token come from HighLevel, outside this transaction.
    transaction.on_commit(lambda: async_task("integrations.tasks.connection_discover_locations", agency.pk))
    return f"location {location_id} {'added' if created else 'installed again'}"


def _on_uninstall(company_id: str, location_id: str) -> str:
    now = timezone.now()
    if location_id:
        Location.objects.filter(location_id=location_id).update(
            is_installed=False, uninstalled_at=now, token_enc="", token_expires_at=None
        )
        revoked = Connection.objects.filter(
            location_id=location_id, kind__in=[Connection.Kind.OAUTH_LOCATION, Connection.Kind.PRIVATE_TOKEN]
        ).exclude(status=Connection.Status.DISCONNECTED)
    else:
        revoked = Connection.objects.filter(kind=Connection.Kind.OAUTH_AGENCY, company_id=company_id)
        Location.objects.filter(connection__in=revoked).update(
            is_installed=False, uninstalled_at=now, token_enc="", token_expires_at=None
        )
    count = 0
    for connection in revoked:
        Connection.objects.filter(pk=connection.pk).update(
            status=Connection.Status.REVOKED, access_token_enc="", refresh_token_enc="", token_expires_at=None,
            last_error="The app was uninstalled in HighLevel.", last_error_at=now,
        )
        audit_record(action=AuditEntry.Action.UNINSTALLED, connection=connection, actor_label=ACTOR,
                     detail=f"App uninstalled ({'location ' + location_id if location_id else 'agency'})")
        count += 1
    target = f"location {location_id}" if location_id else f"company {company_id}"
    return f"uninstalled from {target}; {count} connection(s) revoked"
