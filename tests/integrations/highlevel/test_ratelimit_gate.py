"""Threads of one process waiting for the same bucket ask the store one at a time (BaseRateLimiter's gate):
a freed slot costs one claim, not one failed claim per waiting thread. Real threads, a scaled-down window."""

from __future__ import annotations

import threading

from integrations.highlevel.errors import RateLimited
from integrations.highlevel.ratelimit import background
from integrations.highlevel.ratelimit_memory import MemoryRateLimiter
from tests.integrations.highlevel.test_ratelimit import max_in_any_window

THREADS = 6


class CountingLimiter(MemoryRateLimiter):
    """Counts the store's claims, successful or not."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.tries = 0
        self.failed = 0
        self._count_lock = threading.Lock()

    def _try_claim(self, key: str, now: float, *, yielding: bool = False) -> tuple[bool, float]:
        claimed, value = super()._try_claim(key, now, yielding=yielding)
        with self._count_lock:
            self.tries += 1
            self.failed += not claimed
        return claimed, value


def acquire_in_threads(limiter: MemoryRateLimiter, *, background_too: bool = False) -> list[float]:
    claims: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        try:
            if background_too and n % 2:
                with background():
                    claimed = limiter.acquire("app:loc")
            else:
                claimed = limiter.acquire("app:loc")
            with lock:
                claims.append(claimed)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return claims


def test_threads_waiting_for_one_slot_ask_the_store_one_at_a_time():
    limiter = CountingLimiter(limit=1, window=0.05, margin=0.0)
    claims = acquire_in_threads(limiter)
    assert len(claims) == THREADS
    assert max_in_any_window(claims, 0.05) == 1
    # Each thread fails at most once (it then sleeps until its slot frees, alone); the first need not fail.
    # Without the gate every waiting thread retried at every freed slot: 5 + 4 + 3 + 2 + 1 failures.
    assert limiter.failed <= THREADS - 1
    assert limiter.tries == THREADS + limiter.failed


def test_ordinary_and_background_requests_still_share_the_limit_exactly():
    limiter = CountingLimiter(limit=2, window=0.05, margin=0.0)
    claims = acquire_in_threads(limiter, background_too=True)
    assert len(claims) == THREADS
    assert max_in_any_window(claims, 0.05) == 2


def test_time_spent_at_the_gate_counts_against_max_wait():
    limiter = MemoryRateLimiter(limit=1, window=5.0, margin=0.0, max_wait=0.05)
    gate = limiter._gate("app:loc", False)
    with gate:  # another thread of this process is waiting for the bucket's slot
        try:
            limiter.acquire("app:loc")
        except RateLimited as exc:
            assert exc.wait == limiter.window
        else:
            raise AssertionError("acquire went past a gate held longer than max_wait")
