"""The error tree: one class per kind of failure, each with status, message, traceId, endpoint, retryable."""

from __future__ import annotations

import pytest
from requests.structures import CaseInsensitiveDict

from integrations.highlevel import errors


def make(status, body=None, headers=None, **kwargs):
    return errors.error_for_response(status, body, CaseInsensitiveDict(headers or {}), endpoint="/x", **kwargs)


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, errors.ValidationError, False),
        (401, errors.AuthenticationError, False),
        (403, errors.ScopeError, False),
        (404, errors.NotFound, False),
        (409, errors.HighLevelError, False),
        (422, errors.ValidationError, False),
        (429, errors.RateLimited, True),
        (500, errors.ServerError, True),
        (502, errors.ServerError, True),
        (504, errors.ServerError, True),
    ],
)
def test_each_status_maps_to_its_class(status, cls, retryable):
    error = make(status, {"statusCode": status, "message": "m"}, trace_id="tr")
    assert type(error) is cls
    assert isinstance(error, errors.HighLevelError)
    assert (error.status, error.retryable, error.trace_id, error.endpoint) == (status, retryable, "tr", "/x")


def test_a_list_of_messages_is_joined():
    error = make(422, {"statusCode": 422, "message": ["a is wrong", "b is wrong"], "error": "Unprocessable Entity"})
    assert error.message == "a is wrong; b is wrong"
    assert "a is wrong; b is wrong" in str(error) and "status=422" in str(error)


def test_a_scope_message_is_a_scope_error_whatever_the_status():
    assert type(make(401, {"message": "The token is not authorized for this scope."})) is errors.ScopeError


def test_a_429_with_the_daily_quota_spent_is_quota_exhausted():
    error = make(429, {"message": "x"}, {"X-RateLimit-Daily-Remaining": "0"}, wait=3600)
    assert type(error) is errors.QuotaExhausted and isinstance(error, errors.RateLimited)
    assert error.wait == 3600 and not error.retryable


def test_a_plain_429_carries_its_wait():
    error = make(429, {"message": "x"}, {"X-RateLimit-Daily-Remaining": "5"}, wait=4.0)
    assert type(error) is errors.RateLimited and error.wait == 4.0


def test_invalid_grant_only_on_the_token_endpoint():
    body = {"error": "invalid_grant", "error_description": "refresh token is invalid"}
    assert type(make(400, body, token_endpoint=True)) is errors.InvalidGrant
    assert type(make(401, {"message": "Invalid grant: invalid_grant"}, token_endpoint=True)) is errors.InvalidGrant
    assert type(make(400, body)) is errors.ValidationError


def test_transport_and_bad_response_errors():
    assert errors.TransportError("timeout").retryable and errors.TransportError("t").status is None
    bad = errors.BadResponse("nope", problems=["tags[0]: missing"], status=200)
    assert bad.problems == ["tags[0]: missing"] and not bad.retryable


def test_a_non_json_error_body_still_gives_a_message():
    assert "gateway" in make(502, "<html>bad gateway</html>").message
    assert make(500, None).message == "server error 500"


def test_messages_never_show_tokens():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNlY3JldA"
    error = make(400, {"message": f"bad header Authorization: Bearer {token}; client_secret=shh-123456"})
    assert token not in str(error) and token not in repr(error) and "shh-123456" not in str(error)
    pit = errors.HighLevelError("pit-12345678-aaaa-bbbb rejected")
    assert "pit-12345678" not in str(pit)
