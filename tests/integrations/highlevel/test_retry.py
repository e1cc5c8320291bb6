"""The one retry policy: what is retried, how long to wait."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from requests.structures import CaseInsensitiveDict

from integrations.highlevel import errors
from integrations.highlevel.retry import MAX_DELAY, parse_retry_after, retry_delay, wait_from_headers

NOW = 1_700_000_000.0


def delay(error, retries_done=0, **kwargs):
    kwargs.setdefault("max_retries", 5)
    return retry_delay(error, retries_done=retries_done, rng=random.Random(1), **kwargs)


@pytest.mark.parametrize("cls", [errors.ValidationError, errors.AuthenticationError, errors.ScopeError,
                                 errors.NotFound, errors.InvalidGrant, errors.QuotaExhausted, errors.HighLevelError])
def test_ordinary_4xx_and_permanent_errors_are_never_retried(cls):
    assert delay(cls("no", status=400)) is None


@pytest.mark.parametrize("error", [errors.ServerError("x", status=500), errors.TransportError("t"),
                                   errors.RateLimited("r", status=429)])
def test_429_5xx_and_transport_errors_are_retried(error):
    assert delay(error) is not None


def test_backoff_is_exponential_capped_and_fully_jittered():
    rng = random.Random(3)
    for retries_done in range(12):
        ceiling = min(MAX_DELAY, 0.5 * 2**retries_done)
        samples = [retry_delay(errors.ServerError("x"), retries_done=retries_done, max_retries=99, rng=rng)
                   for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert min(samples) < ceiling * 0.2  # full jitter reaches down to ~0


def test_retries_stop_at_max_retries():
    assert delay(errors.ServerError("x"), retries_done=4) is not None
    assert delay(errors.ServerError("x"), retries_done=5) is None
    assert delay(errors.ServerError("x"), max_retries=0) is None


def test_a_learned_wait_is_a_floor():
    assert 7 <= delay(errors.RateLimited("x", wait=7.0)) <= 7.5


def test_a_wait_past_the_maximum_is_not_waited_out_inline():
    assert delay(errors.RateLimited("x", wait=3600.0)) is None


def test_requests_that_are_not_idempotent_are_retried_only_if_they_never_arrived():
    assert delay(errors.ServerError("x"), idempotent=False) is None
    assert delay(errors.TransportError("read timeout"), idempotent=False) is None
    assert delay(errors.TransportError("refused", connect_failed=True), idempotent=False) is not None
    assert delay(errors.RateLimited("x", wait=1.0), idempotent=False) is not None
    assert delay(errors.BadResponse("truncated", retryable=True), idempotent=False) is None


def test_retry_after_in_seconds_and_as_an_http_date():
    assert parse_retry_after("12", now=NOW) == 12
    when = datetime.fromtimestamp(NOW + 30, tz=UTC)
    assert parse_retry_after(format_datetime(when, usegmt=True), now=NOW) == pytest.approx(30)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 0  # in the past
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None


def test_the_rate_limit_headers_give_the_interval_when_nothing_remains():
    headers = CaseInsensitiveDict({"X-RateLimit-Remaining": "0", "X-RateLimit-Interval-Milliseconds": "10000"})
    assert wait_from_headers(headers, now=NOW) == 10.0
    headers["X-RateLimit-Remaining"] = "3"
    assert wait_from_headers(headers, now=NOW) is None
    headers["Retry-After"] = "2"
    assert wait_from_headers(headers, now=NOW) == 2.0
