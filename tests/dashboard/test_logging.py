from __future__ import annotations

import json
import logging

import pytest

from dashboard.logging import ContextFilter, JsonFormatter, RedactSecretsFilter
from integrations import logcontext
from integrations.redact import MASK, redact

SECRETS = [
    "eyJhbGciOiJIUzI1NiJ9.eyJsb2NhdGlvbklkIjoiYWJjIn0.c2lnbmF0dXJlLXZhbHVl",
    "pit-2b1c9a7e-5d4f-4c1a-9e8b-0f6a7c3d2e1b",
    "sbxat_Zk3v9QwPqLr8TnB2",
    "sbxrt_aaaaBBBBccccDDDD",
    "gAAAAABmZmFrZS1mZXJuZXQtdG9rZW4tdmFsdWUtZm9yLXRlc3Rz",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_known_token_shapes_are_redacted(secret):
    assert secret not in redact(f"calling with {secret} now")


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdefgh12345678",
        'refresh_token="opaque-value-123"',
        "client_secret=s3cr3t-value&grant_type=refresh_token",
        '{"access_token": "plain-opaque-value"}',
    ],
)
def test_secret_looking_keys_are_redacted(text):
    cleaned = redact(text)
    assert MASK in cleaned
    for value in ("abcdefgh12345678", "opaque-value-123", "s3cr3t-value", "plain-opaque-value"):
        assert value not in cleaned


def test_ordinary_text_is_left_alone():
    text = "Fetched 120 tags for location ve9EPM428h8vShlRW1KT in 0.4 s (traceId 8c1d)"
    assert redact(text) == text


def _record(msg, *args, exc_info=None):
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)


def test_the_filter_redacts_arguments_and_exceptions():
    try:
        raise RuntimeError(f"boom with {SECRETS[1]}")
    except RuntimeError:
        import sys

        record = _record("token was %s", SECRETS[0], exc_info=sys.exc_info())
    RedactSecretsFilter().filter(record)
    ContextFilter().filter(record)
    text = logging.Formatter().format(record)
    assert SECRETS[0] not in text and SECRETS[1] not in text
    assert "RuntimeError" in text


def test_json_lines_carry_request_and_run_ids():
    record = _record("synced %d tags", 5)
    with logcontext.bound(logcontext.request_id, "req-12345678"), logcontext.bound(logcontext.run_id, "42"):
        ContextFilter().filter(record)
    line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert payload["message"] == "synced 5 tags"
    assert payload["request_id"] == "req-12345678"
    assert payload["run_id"] == "42"
    assert "\n" not in line


@pytest.mark.django_db
def test_each_response_carries_a_request_id(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="abcdef123456")
    assert response["X-Request-ID"] == "abcdef123456"
    assert len(client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_security_headers_are_set(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
