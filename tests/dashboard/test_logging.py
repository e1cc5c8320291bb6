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


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("{'client_secret': 'cs-9f8e7d6c5b4a', 'grant_type': 'refresh_token'}", "cs-9f8e7d6c5b4a"),
        ("data={'refresh_token': 'opaque-refresh-77', 'x': 1}", "opaque-refresh-77"),
        ("headers={'Authorization': 'Bearer opaque-access-88'}", "opaque-access-88"),
        ('"GET /connections/oauth/callback/?code=7f3c0a9e1b2d&state=abc HTTP/1.1" 302 0', "7f3c0a9e1b2d"),
        ("POST body grant_type=authorization_code&code=9a8b7c6d5e4f&redirect_uri=x", "9a8b7c6d5e4f"),
        ("code=1a2b3c4d5e6f&grant_type=authorization_code", "1a2b3c4d5e6f"),
        ("calling the API with tsk_AbCdEfGh1234567890_-xyz", "tsk_AbCdEfGh1234567890_-xyz"),
        ("broker at redis://tagscope:hunter2pass@cache:6379/0 is down", "hunter2pass"),
        ("database postgres://app:p%40ss-w0rd@db/tagscope unreachable", "p%40ss-w0rd"),
        ("Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
        ("{'Authorization': 'Basic dXNlcjpodW50ZXIy'}", "dXNlcjpodW50ZXIy"),
    ],
)
def test_redaction_covers_reprs_oauth_codes_api_tokens_url_passwords_and_basic_auth(text, secret):
    cleaned = redact(text)
    assert secret not in cleaned
    assert MASK in cleaned


def test_error_codes_and_urls_without_credentials_are_left_alone():
    text = 'HTTP 404 {"error": {"code": "not_found"}} at https://example.com:8443/a?b=1 (status code=404)'
    assert redact(text) == text


def test_the_runserver_access_log_masks_the_oauth_code():
    import io

    handlers = [h for h in logging.getLogger("django.server").handlers if type(h) is logging.StreamHandler]
    assert handlers
    for handler in handlers:
        stream = io.StringIO()
        previous = handler.setStream(stream)
        try:
            logging.getLogger("django.server").info(
                '"%s" %s %s', "GET /connections/oauth/callback/?code=5e6f7a8b9c0d&state=s1 HTTP/1.1", "302", "0")
        finally:
            handler.setStream(previous)
        assert "/connections/oauth/callback/?code=" in stream.getvalue()
        assert "5e6f7a8b9c0d" not in stream.getvalue()


def test_the_gunicorn_access_log_masks_codes_tokens_and_basic_auth(capsys):
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from dashboard.gunicorn_conf import RedactingLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", '%(r)s %(s)s %(f)s %({authorization}i)s')
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/connections/oauth/callback/?code=0d9c8b7a6f5e&state=s",
               "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": "code=0d9c8b7a6f5e&state=s",
               "PATH_INFO": "/connections/oauth/callback/",
               "HTTP_REFERER": "https://sandbox.example/consent?code=0d9c8b7a6f5e"}
    request = SimpleNamespace(headers=[("AUTHORIZATION", "Basic dXNlcjpodW50ZXIy")])
    response = SimpleNamespace(status="302 Found", sent=0, headers=[])
    RedactingLogger(cfg).access(response, request, environ, timedelta(milliseconds=3))
    out = capsys.readouterr().out
    assert "GET /connections/oauth/callback/?code=" in out and " 302 " in out
    assert "0d9c8b7a6f5e" not in out and "dXNlcjpodW50ZXIy" not in out
