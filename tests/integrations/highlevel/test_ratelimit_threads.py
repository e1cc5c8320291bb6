"""Many threads (each with its own database connection, like separate workers) share one bucket through
the database (and Redis) limiter: no window ever holds more than the limit. Real time, scaled-down window."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import connection

from integrations.clients.limiter_db import DatabaseRateLimiter
from integrations.highlevel.ratelimit_redis import RedisRateLimiter
from tests.integrations.highlevel.test_ratelimit import max_in_any_window, redis_or_skip

LIMIT = 8
WINDOW = 0.4
THREADS = 6
PER_THREAD = 6


def in_threads(body: Callable[[int], list[float]]) -> list[float]:
    """`body(n)` for n in range(THREADS), each in a thread with its own database connection (like separate
    workers), all at once; their answers together. A failure in any thread fails the test here."""
    answers: list[float] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            answered = body(n)
            with lock:
                answers.extend(answered)
        except BaseException as exc:  # surfaced below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return answers


def run_threads(make_limiter) -> list[float]:
    def claims(_: int) -> list[float]:
        limiter = make_limiter()  # one instance per thread: nothing shared but the store
        return [limiter.acquire("app:shared-location") for _ in range(PER_THREAD)]

    return in_threads(claims)


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


def run_slow_exchanges(make_limiter) -> list[float]:
    """Each thread claims, then "sends": the request reaches the server at a random moment before its answer,
    which for one request in four takes longer than the margin. Answers the server's arrival times."""
    import random
    import time

    def arrivals(seed: int) -> list[float]:
        limiter, rng, arrived = make_limiter(), random.Random(seed), []
        for _ in range(PER_THREAD):
            claimed_at = limiter.acquire("app:shared-location")
            exchange = rng.choice([0.002, 0.005, 0.01, 0.15])  # the network's time, not the test waiting
            arrived.append(time.time() + rng.uniform(0, exchange))
            time.sleep(exchange)
            limiter.settle("app:shared-location", claimed_at)
        return arrived

    return in_threads(arrivals)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["memory", "database", "redis"])
def test_slow_answers_never_let_more_than_the_limit_arrive_in_any_window(backend):
    from integrations.highlevel.ratelimit_memory import MemoryRateLimiter

    options = {"limit": LIMIT, "window": WINDOW, "margin": 0.01}
    prefix = f"tagscope-test:{uuid.uuid4().hex}"
    if backend == "redis":
        client = redis_or_skip()
        make = lambda: RedisRateLimiter(client, prefix=prefix, **options)  # noqa: E731
    elif backend == "database":
        make = lambda: DatabaseRateLimiter(**options)  # noqa: E731
    else:
        shared = MemoryRateLimiter(**options)
        make = lambda: shared  # noqa: E731
    try:
        arrivals = run_slow_exchanges(make)
    finally:
        if backend == "redis":
            for name in client.scan_iter(f"{prefix}:*"):
                client.delete(name)
    assert len(arrivals) == THREADS * PER_THREAD
    assert max_in_any_window(arrivals, WINDOW) <= LIMIT


def test_more_threads_than_redis_connections_wait_for_one_and_keep_the_limit():
    # A worker runs dozens of units of up to 8 lanes each: more threads than its Redis pool holds. redis-py's
    # default pool raised MaxConnectionsError past its size (a failed unit, or an unsettled claim); the
    # limiter's pool makes a thread wait for a connection instead.
    client = redis_or_skip()
    prefix = f"tagscope-test:{uuid.uuid4().hex}"
    host, port = client.connection_pool.connection_kwargs["host"], client.connection_pool.connection_kwargs["port"]
    shared = RedisRateLimiter(url=f"redis://{host}:{port}/0", prefix=prefix, max_connections=2, limit=LIMIT,
                              window=WINDOW, margin=0.0)
    try:
        claims = in_threads(lambda _: [shared.acquire("app:shared-location") for _ in range(PER_THREAD)])
    finally:
        for name in client.scan_iter(f"{prefix}:*"):
            client.delete(name)
    assert len(claims) == THREADS * PER_THREAD
    assert max_in_any_window(claims, WINDOW) <= LIMIT
    assert shared.redis.connection_pool.max_connections == 2
