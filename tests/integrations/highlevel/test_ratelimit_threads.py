"""Many threads (each with its own database connection, like separate workers) share one bucket through
the database (and Redis) limiter: no window ever holds more than the limit. Real time, scaled-down window."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from integrations.highlevel.ratelimit import DatabaseRateLimiter, RedisRateLimiter
from tests.integrations.highlevel.test_ratelimit import max_in_any_window, redis_or_skip

LIMIT = 8
WINDOW = 0.4
THREADS = 6
PER_THREAD = 6


def run_threads(make_limiter) -> list[float]:
    claims: list[float] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def worker():
        limiter = make_limiter()  # one instance per thread: nothing shared but the store
        try:
            for _ in range(PER_THREAD):
                claimed_at = limiter.acquire("app:shared-location")
                with lock:
                    claims.append(claimed_at)
        except BaseException as exc:  # surfaced below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return claims


@pytest.mark.django_db(transaction=True)
def test_threads_sharing_the_database_limiter_never_exceed_the_limit():
    claims = run_threads(lambda: DatabaseRateLimiter(limit=LIMIT, window=WINDOW, margin=0.0))
    assert len(claims) == THREADS * PER_THREAD
    assert max_in_any_window(claims, WINDOW) <= LIMIT
    # and the limiter did not serialise needlessly: 36 claims at 8 per 0.4 s need about 1.6 s
    assert max(claims) - min(claims) < 5 * WINDOW * THREADS * PER_THREAD / LIMIT


def test_threads_sharing_the_redis_limiter_never_exceed_the_limit():
    client = redis_or_skip()
    prefix = f"tagscope-test:{uuid.uuid4().hex}"
    try:
        claims = run_threads(lambda: RedisRateLimiter(client, prefix=prefix, limit=LIMIT, window=WINDOW, margin=0.0))
    finally:
        for name in client.scan_iter(f"{prefix}:*"):
            client.delete(name)
    assert len(claims) == THREADS * PER_THREAD
    assert max_in_any_window(claims, WINDOW) <= LIMIT
