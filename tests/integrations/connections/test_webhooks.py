"""Inbound HighLevel app webhooks: only genuine, fresh, first-seen requests change anything."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from integrations import crypto
from integrations.models import Connection, InboundWebhook, Location
from sandbox.keys import sign_ed25519

URL = "/webhooks/highlevel/"
SEED = 1


@pytest.fixture
def keys(settings):
    from sandbox.keys import webhook_public_key_pem

    settings.HIGHLEVEL_WEBHOOK_PUBLIC_KEY = webhook_public_key_pem(SEED)
    settings.HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY = ""
    settings.HIGHLEVEL_CLIENT_ID = "tagscope-sandbox"
    return settings


def body(kind="UNINSTALL", **fields) -> bytes:
    payload = {"type": kind, "appId": "tagscope", "companyId": "COMP1", "locationId": "LOC1",
               "timestamp": datetime.now(tz=UTC).isoformat().replace("+00:00", "Z"),
               "webhookId": str(uuid.uuid4()), **fields}
    return json.dumps({k: v for k, v in payload.items() if v is not None}).encode()


def post(client, raw: bytes, signature: str | None = "ed25519", **headers):
    if signature == "ed25519":
        headers["HTTP_X_GHL_SIGNATURE"] = sign_ed25519(SEED, raw)
    return client.post(URL, raw, content_type="application/json", **headers)


@pytest.fixture
def location_connection(db):
    connection = Connection.objects.create(
        name="L1", kind=Connection.Kind.OAUTH_LOCATION, location_id="LOC1", company_id="COMP1",
        access_token_enc=crypto.encrypt("sbxat_x_value"), refresh_token_enc=crypto.encrypt("sbxrt_y_value"),
    )
    Location.objects.create(location_id="LOC1", connection=connection, name="L1")
    return connection


def test_a_signed_uninstall_revokes_the_location_connection(client, keys, location_connection):
    response = post(client, body())
    assert response.status_code == 200, response.content
    location_connection.refresh_from_db()
    assert location_connection.status == Connection.Status.REVOKED
    assert location_connection.access_token_enc == "" and location_connection.refresh_token_enc == ""
    assert not Location.objects.get(location_id="LOC1").is_installed


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda c: post(c, body(), signature=None), 401),  # unsigned
        (lambda c: post(c, body(), signature=None, HTTP_X_GHL_SIGNATURE=base64.b64encode(b"x" * 64).decode()), 401),
        (lambda c: post(c, body(), signature=None, HTTP_X_GHL_SIGNATURE="%%%not-base64"), 401),
        (lambda c: post(c, body(timestamp=(datetime.now(tz=UTC) - timedelta(minutes=6)).isoformat()), ), 401),
        (lambda c: post(c, body(timestamp="yesterday-ish")), 400),
        (lambda c: post(c, b"{not json"), 400),
        (lambda c: post(c, b'["a list"]'), 400),
    ],
    ids=["unsigned", "forged", "garbage-signature", "stale", "bad-timestamp", "not-json", "not-an-object"],
)
def test_bad_requests_are_rejected_and_change_nothing(client, keys, location_connection, make, status):
    assert make(client).status_code == status
    location_connection.refresh_from_db()
    assert location_connection.status == Connection.Status.ACTIVE
    assert InboundWebhook.objects.count() == 0


def test_a_body_signed_by_another_key_is_forged(client, keys, location_connection):
    raw = body()
    other = ed25519.Ed25519PrivateKey.generate()
    response = post(client, raw, signature=None, HTTP_X_GHL_SIGNATURE=base64.b64encode(other.sign(raw)).decode())
    assert response.status_code == 401


def test_a_replayed_webhook_id_is_rejected(client, keys, location_connection):
    raw = body()
    assert post(client, raw).status_code == 200
    Connection.objects.filter(pk=location_connection.pk).update(status=Connection.Status.ACTIVE)
    replay = post(client, raw)
    assert replay.status_code == 401
    assert b"replay" in replay.content
    assert Connection.objects.get(pk=location_connection.pk).status == Connection.Status.ACTIVE


def test_another_apps_event_is_ignored(client, keys, location_connection):
    assert post(client, body(appId="someone-else")).status_code == 200
    location_connection.refresh_from_db()
    assert location_connection.status == Connection.Status.ACTIVE


def test_the_legacy_rsa_signature_counts_only_when_configured_and_ed25519_is_absent(client, keys, location_connection):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raw = body()
    legacy = base64.b64encode(private.sign(raw, padding.PKCS1v15(), hashes.SHA256())).decode()
    assert post(client, raw, signature=None, HTTP_X_WH_SIGNATURE=legacy).status_code == 401  # not configured
    keys.HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert post(client, raw, signature=None, HTTP_X_WH_SIGNATURE=legacy).status_code == 200


def test_an_install_for_a_known_agency_adds_the_location(client, keys, db, django_capture_on_commit_callbacks):
    agency = Connection.objects.create(name="A", kind=Connection.Kind.OAUTH_AGENCY, company_id="COMP1",
                                       access_token_enc=crypto.encrypt("sbxat_agency"))
    from unittest import mock

    with mock.patch("django_q.tasks.async_task") as enqueue, django_capture_on_commit_callbacks(execute=True):
        response = post(client, body("INSTALL", locationId="LOCNEW1"))
    assert response.status_code == 200, response.content
    assert Location.objects.get(location_id="LOCNEW1").connection == agency
    assert enqueue.call_args.args == ("integrations.tasks.connection_discover_locations", agency.pk)


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_sends_a_real_signed_webhook_over_http(live_server, hl):
    company_id = hl.state()["agencies"][0]["id"]
    connection = Connection.objects.create(name="L", kind=Connection.Kind.OAUTH_LOCATION,
                                           location_id=hl.location_ids()[0], company_id=company_id,
                                           access_token_enc=crypto.encrypt("sbxat_live"))
    Location.objects.create(location_id=connection.location_id, connection=connection, name="L")
    sent = hl.send_webhook(f"{live_server.url}{URL}", "UNINSTALL", company_id=company_id,
                           location_id=connection.location_id, signature="ed25519")
    assert sent["status"] == 200, sent
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.REVOKED
    forged = hl.send_webhook(f"{live_server.url}{URL}", "UNINSTALL", company_id=company_id,
                             location_id=connection.location_id, signature="bad")
    assert forged["status"] == 401


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type": "UNINSTALL", "appId": "tagscope", "locationId": "LOC1", "webhookId": "w-nan", "timestamp": NaN}',
        b'{"type": "UNINSTALL", "appId": "tagscope", "locationId": "LOC1", "webhookId": "w-inf",'
        b' "timestamp": Infinity}',
        b'{"type": "UNINSTALL", "appId": "tagscope", "locationId": "LOC1", "webhookId": "w-big", "timestamp": 1e300}',
        b'{"type": "UNINSTALL", "appId": "tagscope", "locationId": "LOC1", "webhookId": "w-int",'
        b' "timestamp": 100000000000000000000000000000}',
        b'{"type": "UNINSTALL", "appId": "tagscope", "locationId": "LOC1", "webhookId": "w-neg", "timestamp": -1e20}',
        b'{"type": "UNINSTALL", "appId": "tagscope", "locationId": "LOC1", "webhookId": "w-old",'
        b' "timestamp": "0001-01-01T00:00:00+14:00"}',
        b'{"type": "UNINSTALL", "appId": "tagscope", "locationId": "LOC1", "webhookId": "w-far",'
        b' "timestamp": "9999-12-31T23:59:59-12:00"}',
        b'{"type": "UNINSTALL", "appId": "tagscope", "locationId": "LOC1", "webhookId": "w-bool", "timestamp": true}',
    ],
    ids=["nan", "infinity", "huge-float", "huge-int", "huge-negative", "year-1", "year-9999", "bool"],
)
def test_a_signed_webhook_with_an_absurd_timestamp_is_refused_not_a_500(client, keys, location_connection, raw):
    response = post(client, raw)
    assert response.status_code in (400, 401), response.content
    assert response.json()["error"]["code"] == "rejected"
    location_connection.refresh_from_db()
    assert location_connection.status == Connection.Status.ACTIVE


@pytest.mark.parametrize("missing", ["timestamp", "webhookId", "appId"])
def test_an_uninstall_must_carry_a_timestamp_a_webhook_id_and_our_app_id(client, keys, location_connection, missing):
    response = post(client, body(**{missing: None}))
    assert response.status_code == 400, response.content
    assert missing in response.json()["error"]["message"]
    location_connection.refresh_from_db()
    assert location_connection.status == Connection.Status.ACTIVE
    assert InboundWebhook.objects.count() == 0


def test_an_uninstall_is_deduplicated_by_its_webhook_id_even_with_another_body(client, keys, location_connection):
    assert post(client, body(webhookId="same-id")).status_code == 200
    Connection.objects.filter(pk=location_connection.pk).update(status=Connection.Status.ACTIVE)
    again = post(client, body(webhookId="same-id", companyId="COMP1", extra="x"))
    assert again.status_code == 401 and b"replay" in again.content
    assert Connection.objects.get(pk=location_connection.pk).status == Connection.Status.ACTIVE


def test_every_webhook_is_refused_when_no_client_id_is_configured(client, keys, location_connection):
    keys.HIGHLEVEL_CLIENT_ID = ""
    response = post(client, body())
    assert response.status_code == 403
    assert "HIGHLEVEL_CLIENT_ID" in response.json()["error"]["message"]
    location_connection.refresh_from_db()
    assert location_connection.status == Connection.Status.ACTIVE
