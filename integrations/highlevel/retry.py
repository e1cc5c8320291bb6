"""The one retry module: `Backoff` (how long to wait before each retry, with jitter) and the rule for
HighLevel calls (after stripe-python's `_should_retry` / `_sleep_time_seconds`).

`Backoff` is used by every retrying loop in Tagscope, each with its own numbers: a HighLevel call here
(`retry_delay`: capped exponential, full jitter), a sync unit (integrations/sync/runs.py: exponential,
longer for scheduled runs than for on-demand ones) and a webhook delivery (integrations/delivery/sending.py:
the Standard Webhooks schedule). Whether an error may be retried at all is the error's own `retryable`
(errors.py), read by all of them.

Retry 429, 5xx, transport errors and unreadable 2xx bodies of idempotent requests, with capped
exponential backoff and full jitter; honour `Retry-After` (seconds or an HTTP date) and, when
`X-RateLimit-Remaining` is 0, `X-RateLimit-Interval-Milliseconds`. Never retry any other 4xx.
Requests that are not idempotent (the code and refresh-token grants: a refresh token is single
use) are retried only when the request provably never reached the server (a 429 or a failed connect).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from integrations.highlevel.errors import BadResponse, HighLevelError, RateLimited, TransportError

BASE_DELAY = 0.5
MAX_DELAY = 20.0
# A server asking for a longer pause than this is not waited out inside one call: the error goes up
# with its `wait` so a job can be rescheduled instead of holding a worker.
MAX_WAIT = 60.0
FULL, UP = "full", "up"


@dataclass(frozen=True)
class Backoff:
    """How long to wait before retry number `retries_done + 1`, or None when `retries` are spent.

    The nominal delay is `delays[n]` when a schedule is given (its last entry repeats), else
    `base * 2**n` capped at `cap`. Jitter FULL draws anywhere from 0 to the nominal delay (it spreads a
    herd of clients best); UP adds up to `spread` of it and never retries early (a receiver told "5 s"
    gets at least 5 s).
    """

    retries: int
    base: float = 0.0
    cap: float = float("inf")
    delays: tuple[float, ...] = ()
    jitter: str = FULL
    spread: float = 0.0

    def nominal(self, retries_done: int) -> float:
        if self.delays:
            return self.delays[min(retries_done, len(self.delays) - 1)]
        return min(self.cap, self.base * (2**retries_done))

    def delay(self, retries_done: int, *, rng: random.Random | None = None) -> float | None:
        if retries_done >= self.retries:
            return None
        nominal = self.nominal(retries_done)
        if self.jitter == FULL:
            return (rng or random).uniform(0.0, nominal)
        return nominal * (rng or random).uniform(1.0, 1.0 + self.spread)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds from `Retry-After`, given as delta-seconds or an HTTP date; None if absent or garbled."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _number(headers: Mapping[str, str], name: str) -> float | None:
    try:
        value = headers.get(name)
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def wait_from_headers(headers: Mapping[str, str], *, now: float) -> float | None:
    """The pause a response asks for: `Retry-After`, else the interval when the window is spent."""
    retry_after = parse_retry_after(headers.get("Retry-After"), now=now)
    if retry_after is not None:
        return retry_after
    if _number(headers, "X-RateLimit-Remaining") == 0:
        interval_ms = _number(headers, "X-RateLimit-Interval-Milliseconds")
        if interval_ms is not None and interval_ms > 0:
            return interval_ms / 1000.0
    return None


def retry_delay(
    error: HighLevelError,
    *,
    retries_done: int,
    max_retries: int,
    idempotent: bool = True,
    rng: random.Random | None = None,
    base: float = BASE_DELAY,
    cap: float = MAX_DELAY,
    max_wait: float = MAX_WAIT,
) -> float | None:
    """Seconds to sleep before the next attempt, or None when `error` must be raised now.

    `retries_done` counts the retries already made (0 before the first retry).
    """
    if not error.retryable:
        return None
    if not idempotent and not _never_reached_server(error):
        return None
    if isinstance(error, BadResponse) and not idempotent:
        return None
    jitter = Backoff(retries=max_retries, base=base, cap=cap).delay(retries_done, rng=rng)
    if jitter is None:
        return None
    learned = error.wait if isinstance(error, RateLimited) else None
    if learned is not None:
        if learned > max_wait:
            return None
        # The learned wait is a floor; jitter on top spreads the workers that all learned it at once.
        return learned + (rng or random).uniform(0.0, min(1.0, base))
    return jitter


def _never_reached_server(error: HighLevelError) -> bool:
    if isinstance(error, RateLimited):
        return True
    return isinstance(error, TransportError) and getattr(error, "connect_failed", False)
