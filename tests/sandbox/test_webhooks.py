"""App webhooks: payloads per HighLevel's page, signatures verifiable with the published keys."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from sandbox import keys


@pytest.fixture
def receiver():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": dict(self.headers), "body": body})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/highlevel/", received
    server.shutdown()
    server.server_close()


def test_an_install_webhook_is_signed_with_ed25519(sandbox, receiver):
    url, received = receiver
    state = sandbox.state()
    location = state["locations"][0]
    answer = sandbox.send_webhook(url, "INSTALL", company_id=location["companyId"], location_id=location["id"])
    assert answer["status"] == 200
    body = received[0]["body"]
    payload = json.loads(body)
    assert payload == answer["sent"]["payload"]
    assert {"type", "appId", "companyId", "locationId", "userId", "planId", "trial", "companyName",
            "isWhitelabelCompany", "timestamp", "webhookId", "installType", "versionId"} == set(payload)
    assert (payload["type"], payload["appId"], payload["locationId"]) == ("INSTALL", "tagscope", location["id"])
    public_key = serialization.load_pem_public_key(state["webhook_public_key_pem"].encode())
    public_key.verify(base64.b64decode(received[0]["headers"]["X-GHL-Signature"]), body)
    assert "X-WH-Signature" not in received[0]["headers"]


def test_the_legacy_rsa_signature_verifies_with_the_legacy_key(sandbox, receiver):
    url, received = receiver
    state = sandbox.state()
    sandbox.send_webhook(url, "UNINSTALL", company_id=state["agencies"][0]["id"], signature="rsa")
    body, headers = received[0]["body"], received[0]["headers"]
    assert "X-GHL-Signature" not in headers
    public_key = serialization.load_pem_public_key(state["webhook_legacy_public_key_pem"].encode())
    public_key.verify(base64.b64decode(headers["X-WH-Signature"]), body, padding.PKCS1v15(), hashes.SHA256())
    payload = json.loads(body)
    assert payload["type"] == "UNINSTALL"
    assert payload["companyId"] == state["agencies"][0]["id"]
    assert "locationId" not in payload


def test_bad_and_missing_signatures(sandbox, receiver):
    url, received = receiver
    state = sandbox.state()
    company_id = state["agencies"][0]["id"]
    sandbox.send_webhook(url, "INSTALL", company_id=company_id, signature="bad",
                         timestamp="2020-01-01T00:00:00.000Z", webhook_id="wh-1")
    sandbox.send_webhook(url, "INSTALL", company_id=company_id, signature="none")
    bad, unsigned = received
    public_key = serialization.load_pem_public_key(state["webhook_public_key_pem"].encode())
    with pytest.raises(InvalidSignature):
        public_key.verify(base64.b64decode(bad["headers"]["X-GHL-Signature"]), bad["body"])
    payload = json.loads(bad["body"])
    assert (payload["timestamp"], payload["webhookId"], payload["installType"]) == (
        "2020-01-01T00:00:00.000Z", "wh-1", "Company")
    assert "X-GHL-Signature" not in unsigned["headers"]


def test_an_unreachable_receiver_is_reported_not_raised(sandbox):
    company_id = sandbox.state()["agencies"][0]["id"]
    answer = sandbox.send_webhook("http://127.0.0.1:9/", "INSTALL", company_id=company_id, timeout=1)
    assert answer["status"] is None
    assert answer["error"]


def test_the_ed25519_key_is_derived_from_the_seed():
    assert keys.webhook_public_key_pem(1) == keys.webhook_public_key_pem(1)
    assert keys.webhook_public_key_pem(1) != keys.webhook_public_key_pem(2)
