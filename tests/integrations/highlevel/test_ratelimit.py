"""The shared rate limiter, every backend with the same tests: a fake clock whose sleep advances it (never
real sleeping), a strict sliding window that no window ever exceeds, learning from 429s and headers, and
the daily quota. The threaded test for the database backend is in test_ratelimit_threads.py."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest
from requests.structures import CaseInsensitiveDict

from integrations.clients.limiter_db import DatabaseRateLimiter
from integrations.clients.limiter_file import FileRateLimiter
from integrations.clients.limiters import get_rate_limiter, reset_rate_limiter
from integrations.highlevel import errors
from integrations.highlevel.ratelimit import DAILY_REPORT_EVERY, background, bucket_key
from integrations.highlevel.ratelimit_memory import MemoryRateLimiter
from integrations.highlevel.ratelimit_redis import RedisRateLimiter

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC).timestamp()
# pytest-django sets the test database up for the tests it sees asking for one: the database backend's
# parameter asks only from inside its fixture, too late to be seen.
pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


def redis_or_skip():
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis does not answer at 127.0.0.1:6379 ({exc.__class__.__name__}): Redis limiter untested")
    return client


@pytest.fixture(params=["memory", "database", "file", "redis"])
def make_limiter(request, tmp_path):
    """Builds a limiter of the parametrized backend on a fake clock; answers (limiter, clock, claims)."""
    backend = request.param
    made = []
    if backend in ("database", "file"):
        request.getfixturevalue("db")
    if backend == "redis":
        redis_client = redis_or_skip()
        prefix = f"tagscope-test:{uuid.uuid4().hex}"

    classes = {"memory": MemoryRateLimiter, "database": DatabaseRateLimiter, "file": FileRateLimiter,
               "redis": RedisRateLimiter}

    def make(**kwargs):
        clock = FakeClock()
        claims: list[float] = []
        base = classes[backend]

        class Recording(base):  # type: ignore[misc, valid-type]
            def acquire(self, key):
                claimed_at = super().acquire(key)
                claims.append(claimed_at)
                return claimed_at

        options = {"clock": clock, "sleep": clock.sleep, "margin": 0.0, **kwargs}
        if backend == "file":  # each limiter its own rings, as each had its own clock
            options["directory"] = tmp_path / f"rings-{len(made)}"
        limiter = Recording(redis_client, prefix=prefix, **options) if backend == "redis" else Recording(**options)
        made.append(limiter)
        return limiter, clock, claims

    yield make
    if backend == "redis":
        for name in redis_client.scan_iter(f"{prefix}:*"):
            redis_client.delete(name)


def max_in_any_window(claims: list[float], window: float) -> int:
    claims = sorted(claims)
    best = 0
    for i, start in enumerate(claims):
        best = max(best, sum(1 for t in claims[i:] if t < start + window))
    return best


def test_a_burst_never_exceeds_the_limit_in_any_window(make_limiter):
    limiter, clock, claims = make_limiter(limit=10, window=10.0)
    for _ in range(35):
        limiter.acquire("app:loc1")
    assert len(claims) == 35
    assert max_in_any_window(claims, 10.0) == 10
    # and it waited rather than refused: 35 requests at 10 per 10 s take 30 s, not less
    assert clock.now - START >= 30.0


def test_a_steady_trickle_is_not_slowed_down(make_limiter):
    limiter, clock, claims = make_limiter(limit=10, window=10.0)
    for _ in range(30):
        limiter.acquire("app:loc1")
        clock.now += 1.5  # slower than the limit: never any wait
    assert clock.now - START == pytest.approx(45.0)
    assert max_in_any_window(claims, 10.0) <= 10


def test_buckets_are_independent(make_limiter):
    limiter, clock, _claims = make_limiter(limit=5, window=10.0)
    for _ in range(5):
        limiter.acquire(bucket_key("app", "loc1"))
        limiter.acquire(bucket_key("app", "loc2"))
        limiter.acquire(bucket_key("other-app", "loc1"))
    assert clock.now == START


def test_a_429_blocks_the_bucket_for_the_retry_after(make_limiter):
    limiter, clock, _claims = make_limiter(limit=100, window=10.0)
    limiter.acquire("k")
    limiter.observe("k", 429, CaseInsensitiveDict({"Retry-After": "7"}))
    limiter.acquire("k")
    assert clock.now - START >= 7.0


def test_a_429_without_retry_after_blocks_for_the_interval_from_the_headers(make_limiter):
    limiter, clock, _claims = make_limiter(limit=100, window=10.0)
    limiter.observe("k", 429, CaseInsensitiveDict({"X-RateLimit-Remaining": "0",
                                                   "X-RateLimit-Interval-Milliseconds": "4000"}))
    limiter.acquire("k")
    assert clock.now - START == pytest.approx(4.0, abs=0.01)


def test_a_bare_429_blocks_for_a_window(make_limiter):
    limiter, clock, _claims = make_limiter(limit=100, window=10.0)
    limiter.observe("k", 429, CaseInsensitiveDict())
    limiter.acquire("k")
    assert clock.now - START == pytest.approx(10.0, abs=0.01)


def test_remaining_zero_while_we_thought_slots_free_fills_the_window(make_limiter):
    # Someone else (another deployment of the app) is using the bucket: HighLevel says the window is full.
    limiter, clock, _claims = make_limiter(limit=10, window=10.0)
    limiter.acquire("k")
    clock.now += 1
    limiter.observe("k", 200, CaseInsensitiveDict({"X-RateLimit-Remaining": "0"}))
    limiter.acquire("k")
    assert clock.now - START >= 10.0


def test_remaining_zero_when_we_agree_costs_nothing_extra(make_limiter):
    limiter, clock, _claims = make_limiter(limit=3, window=10.0)
    for _ in range(3):
        limiter.acquire("k")
        clock.now += 1
    limiter.observe("k", 200, CaseInsensitiveDict({"X-RateLimit-Remaining": "0"}))
    limiter.acquire("k")  # the first slot frees at START + 10 as it would have anyway
    assert clock.now - START == pytest.approx(10.0, abs=0.01)


def test_a_wait_longer_than_max_wait_raises_rate_limited(make_limiter):
    limiter, clock, _claims = make_limiter(limit=10, window=10.0, max_wait=30.0)
    limiter.observe("k", 429, CaseInsensitiveDict({"Retry-After": "600"}))
    with pytest.raises(errors.RateLimited) as info:
        limiter.acquire("k")
    assert info.value.wait == pytest.approx(600, abs=1)
    assert clock.now == START


def test_a_daily_quota_reported_spent_refuses_until_the_next_utc_day(make_limiter):
    limiter, clock, _claims = make_limiter(limit=10, window=10.0)
    limiter.acquire("k")
    limiter.observe("k", 200, CaseInsensitiveDict({"X-RateLimit-Daily-Remaining": "0",
                                                   "X-RateLimit-Limit-Daily": "200000"}))
    with pytest.raises(errors.QuotaExhausted) as info:
        limiter.acquire("k")
    assert info.value.wait == pytest.approx(12 * 3600)
    clock.now += 12 * 3600 + 1
    limiter.acquire("k")


def test_our_own_daily_count_stops_at_the_daily_limit(make_limiter):
    limiter, _clock, _claims = make_limiter(limit=10, window=1.0, daily_limit=3)
    for _ in range(3):
        limiter.acquire("k")
    with pytest.raises(errors.QuotaExhausted):
        limiter.acquire("k")
    limiter.acquire("other")


def test_daily_figures_are_stored(db):
    from integrations.models import RateLimitDay

    clock = FakeClock()
    limiter = DatabaseRateLimiter(clock=clock, sleep=clock.sleep)
    limiter.acquire("app:loc")
    limiter.acquire("app:loc")
    limiter.observe("app:loc", 200, CaseInsensitiveDict({"X-RateLimit-Daily-Remaining": "1234",
                                                         "X-RateLimit-Limit-Daily": "200000"}))
    row = RateLimitDay.objects.get(key="app:loc")
    assert (row.day.isoformat(), row.count, row.reported_remaining, row.reported_limit) == (
        "2025-03-01", 2, 1234, 200000)


def test_the_database_ring_has_one_row_per_slot(db):
    from integrations.models import RateLimitSlot

    clock = FakeClock()
    limiter = DatabaseRateLimiter(limit=7, window=10.0, clock=clock, sleep=clock.sleep)
    for _ in range(7):
        limiter.acquire("k")
    assert RateLimitSlot.objects.filter(key="k", slot__lt=7).count() == 7
    assert RateLimitSlot.objects.filter(key="k").count() == 8  # and the row that says an ordinary request waits
    # a second process (a new instance) shares the same ring
    other = DatabaseRateLimiter(limit=7, window=10.0, clock=clock, sleep=clock.sleep)
    before = clock.now
    other.acquire("k")
    assert clock.now > before


def test_get_rate_limiter_picks_redis_when_configured(settings, db):
    reset_rate_limiter()
    settings.REDIS_URL = ""
    assert isinstance(get_rate_limiter(), DatabaseRateLimiter)
    reset_rate_limiter()
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    settings.HIGHLEVEL_BURST_LIMIT = 50
    limiter = get_rate_limiter()
    assert isinstance(limiter, RedisRateLimiter) and limiter.limit == 50
    assert get_rate_limiter() is limiter
    reset_rate_limiter()


def test_a_ring_deleted_under_a_running_limiter_is_rebuilt(db):
    from integrations.models import RateLimitSlot

    clock = FakeClock()
    limiter = DatabaseRateLimiter(limit=3, window=10.0, clock=clock, sleep=clock.sleep, max_wait=5.0)
    limiter.acquire("k")
    RateLimitSlot.objects.all().delete()
    limiter.acquire("k")
    assert RateLimitSlot.objects.filter(key="k", slot__lt=3).count() == 3


def test_random_traffic_never_exceeds_the_limit_in_any_window(make_limiter):
    import random

    rng = random.Random(11)
    limiter, clock, claims = make_limiter(limit=6, window=2.0)
    for _ in range(150):
        if rng.random() < 0.3:
            clock.now += rng.uniform(0, 1.5)  # idle, then a burst of back-to-back requests
        if rng.random() < 0.03:
            limiter.observe("k", 429, CaseInsensitiveDict({"Retry-After": str(rng.randint(1, 3))}))
        limiter.acquire("k")
    assert len(claims) == 150
    assert max_in_any_window(claims, 2.0) <= 6
    assert claims == sorted(claims)


def test_daily_figures_are_stored_every_few_seconds_unless_the_quota_runs_low(db):
    from integrations.models import RateLimitDay

    clock = FakeClock()
    limiter = DatabaseRateLimiter(clock=clock, sleep=clock.sleep)

    def answer(remaining: int) -> None:
        limiter.observe("app:loc", 200, CaseInsensitiveDict({"X-RateLimit-Daily-Remaining": str(remaining),
                                                             "X-RateLimit-Limit-Daily": "200000"}))

    def stored() -> int:
        return RateLimitDay.objects.get(key="app:loc").reported_remaining

    answer(150_000)
    answer(149_999)
    clock.sleep(DAILY_REPORT_EVERY - 0.5)
    answer(149_999)
    assert stored() == 150_000  # the later answers came within DAILY_REPORT_EVERY: not written
    clock.sleep(0.5)
    answer(149_998)
    assert stored() == 149_998
    answer(9_000)  # under 5 % of the daily limit: every answer is written
    answer(8_999)
    assert stored() == 8_999


def test_a_slow_exchange_keeps_its_slot_for_a_window_after_it_ended(make_limiter):
    # HighLevel may count the request as late as its answer: the slot's window starts there.
    limiter, clock, _claims = make_limiter(limit=2, window=10.0, margin=0.1)
    clock.now += 0.123456789  # a real clock's microseconds: 16 digits, more than Lua keeps of a number
    first = limiter.acquire("k")
    clock.now += 3.0  # a slow answer (or a starved process)
    limiter.settle("k", first)
    limiter.acquire("k")
    limiter.acquire("k")  # waits for the first slot: 10 s after the answer, not after the claim
    assert clock.now - first == pytest.approx(13.0, abs=0.01)


def test_an_exchange_within_the_margin_keeps_the_claim_time(make_limiter):
    limiter, clock, _claims = make_limiter(limit=2, window=10.0, margin=0.1)
    first = limiter.acquire("k")
    clock.now += 0.05
    limiter.settle("k", first)
    limiter.acquire("k")
    limiter.acquire("k")
    assert clock.now - START == pytest.approx(10.1, abs=0.01)


def test_settling_a_claim_that_left_the_window_changes_nothing(make_limiter):
    limiter, clock, _claims = make_limiter(limit=1, window=10.0, margin=0.1)
    first = limiter.acquire("k")
    clock.now += 11.0
    second = limiter.acquire("k")  # the slot was free again: reused
    clock.now += 0.05
    limiter.settle("k", first)  # a very late settle of the first must not move the second's claim
    limiter.acquire("k")
    assert clock.now - second == pytest.approx(10.1, abs=0.01)


def store_held_up(limiter, clock, seconds: float):
    """Every claim of `limiter` waits `seconds` for its store, the clock read before (a lock held elsewhere,
    SQLite's write lock); answers the store's own claim, to put back."""
    ask_the_store = limiter._try_claim

    def held_up(key, now, **kwargs):
        clock.now += seconds
        return ask_the_store(key, now, **kwargs)

    limiter._try_claim = held_up
    return ask_the_store


def test_a_claim_granted_late_counts_from_when_acquire_answers(make_limiter):
    # Granting a claim can outlast the margin (the store's lock held by a thread of another process that lost
    # the CPU, SQLite's write lock, the day count's write), and its request leaves only after it. Stamped with
    # the time it was asked for, its slot freed that much early: the next request could be sent while this one
    # was still on its way, before its settle could move the slot.
    limiter, clock, _claims = make_limiter(limit=1, window=10.0, margin=0.1)
    ask_the_store = store_held_up(limiter, clock, 8.0)
    first = limiter.acquire("k")
    sent = clock.now
    assert first == pytest.approx(sent, abs=0.001)
    limiter._try_claim = ask_the_store
    clock.now += 2.5  # the exchange is still on (as stamped, the slot would have freed at 8 + 2.1 s)
    limiter.acquire("k")
    assert clock.now - sent == pytest.approx(10.1, abs=0.01)
    started = getattr(limiter, "_started", None)  # the database's and the file's: exchange lengths learnt
    if started is not None:
        assert started.get(first) == START


def test_claims_granted_late_never_run_ahead_of_the_clock(make_limiter):
    # Each claim moved to when it was answered, never past it. Redis and memory stamp a claim read with a stale
    # clock just after the newest claim; measured from that read, the move pushed it ahead of the clock, the
    # next claim was stamped after it and pushed further: in the scale-out agency benchmark the log ran into
    # the future, units waited out max_wait, and the sandbox answered 1,146 429s.
    limiter, clock, _claims = make_limiter(limit=20, window=10.0, margin=0.1)
    store_held_up(limiter, clock, 0.5)
    answered = []
    for _ in range(10):
        stamp = limiter.acquire("k")
        answered.append(clock.now)
        assert stamp == pytest.approx(clock.now, abs=0.001)
        clock.now -= 0.4  # the next thread read the clock before this claim was answered
    assert answered[-1] - answered[0] == pytest.approx(9 * 0.1, abs=0.01)


def test_a_claim_granted_within_half_the_margin_is_not_moved(make_limiter):
    limiter, clock, _claims = make_limiter(limit=1, window=10.0, margin=0.1)
    moves = []
    limiter._move_claim = lambda *args: moves.append(args)
    store_held_up(limiter, clock, 0.04)
    assert limiter.acquire("k") == pytest.approx(START, abs=0.000002)
    assert moves == []


class TakenByAnotherThread:
    """A lock that another thread holds: taking it without waiting fails; waiting for it fails the test."""

    def acquire(self, blocking: bool = True) -> bool:
        assert not blocking, "waited for another thread"
        return False


def test_requests_do_not_wait_for_another_thread_writing_the_days_figures_and_lose_no_count(db):
    # A worker's lanes queued behind one lane's daily-count write while it waited for SQLite's write lock.
    from integrations.models import RateLimitDay

    clock = FakeClock()
    limiter = DatabaseRateLimiter(clock=clock, sleep=clock.sleep)
    limiter.acquire("app:loc")
    assert RateLimitDay.objects.get(key="app:loc").count == 1
    clock.now += DAILY_REPORT_EVERY
    daily = {"X-RateLimit-Daily-Remaining": "199000", "X-RateLimit-Limit-Daily": "200000"}
    writing = limiter._day_writing
    limiter._day_writing = TakenByAnotherThread()  # another thread of the process is writing the day's figures
    limiter.acquire("app:loc")  # neither waits for it
    limiter.observe("app:loc", 200, daily)
    limiter._day_writing = writing
    day = RateLimitDay.objects.get(key="app:loc")
    assert (day.count, day.reported_remaining) == (1, None)  # its figures were left for a later request
    limiter.acquire("app:loc")
    limiter.observe("app:loc", 200, daily)
    day.refresh_from_db()
    assert (day.count, day.reported_remaining) == (3, 199000)


def test_daily_counts_are_stored_every_few_seconds_and_reach_other_processes(db):
    from integrations.models import RateLimitDay

    clock = FakeClock()
    one = DatabaseRateLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(3):
        one.acquire("app:loc")
    assert RateLimitDay.objects.get(key="app:loc").count == 1  # the first at once, then every few seconds
    clock.now += DAILY_REPORT_EVERY - 0.5
    one.acquire("app:loc")
    assert RateLimitDay.objects.get(key="app:loc").count == 1
    clock.now += 0.5
    one.acquire("app:loc")
    assert RateLimitDay.objects.get(key="app:loc").count == 5
    other = DatabaseRateLimiter(clock=clock, sleep=clock.sleep, daily_limit=5)
    with pytest.raises(errors.QuotaExhausted):
        other.acquire("app:loc")


def test_a_claim_read_with_a_stale_clock_is_settled_on_its_own(make_limiter):
    # Two workers claim; the second read its clock a moment before the first's claim landed. Each answer
    # then comes late, the second's later still: each slot must count from its own answer.
    limiter, clock, _claims = make_limiter(limit=2, window=10.0, margin=0.1)
    first = limiter.acquire("k")
    clock.now -= 0.001
    second = limiter.acquire("k")
    clock.now = first + 0.5
    limiter.settle("k", first)
    clock.now = first + 3.0
    limiter.settle("k", second)
    limiter.acquire("k")  # the first slot frees 10 s after the first answer
    assert clock.now - first == pytest.approx(10.5, abs=0.01)
    limiter.acquire("k")  # the second, 10 s after the second answer
    assert clock.now - first == pytest.approx(13.0, abs=0.01)


def test_a_background_request_yields_the_free_slot_to_an_ordinary_one_that_waits(make_limiter):
    limiter, clock, _claims = make_limiter(limit=1, window=10.0, margin=0.0)
    with background():
        limiter.acquire("k")  # a statistics backfill holds the only slot
    tried = []
    wait_for_the_slot = limiter.sleep

    def meanwhile(seconds: float) -> None:
        # The ordinary request waits for the slot; when it frees, a background one asks first.
        wait_for_the_slot(seconds)
        if not tried:
            tried.append(clock.now)
            limiter.max_wait = 0.0
            with background(), pytest.raises(errors.RateLimited):
                limiter.acquire("k")
            limiter.max_wait = 120.0

    limiter.sleep = meanwhile
    claimed = limiter.acquire("k")
    assert tried and claimed == pytest.approx(START + 10.0, abs=0.01)  # the ordinary request got it


def test_background_requests_use_every_slot_while_no_ordinary_one_waits(make_limiter):
    limiter, clock, claims = make_limiter(limit=10, window=10.0)
    with background():
        for _ in range(35):
            limiter.acquire("k")
    assert max_in_any_window(claims, 10.0) == 10
    assert clock.now - START == pytest.approx(30.0, abs=0.1)  # as fast as ordinary ones (the burst test)


def _taught(limiter: DatabaseRateLimiter, length: float) -> DatabaseRateLimiter:
    from integrations.clients.limiter_db import ALLOWANCE_EVERY

    for _ in range(ALLOWANCE_EVERY):
        limiter.lengths.add(length)
    return limiter


def test_the_allowance_is_a_high_quantile_of_recent_exchanges_less_the_margin():
    from integrations.clients.limiter_db import ALLOWANCE_EVERY, ALLOWANCE_MAX, ExchangeLengths

    lengths = ExchangeLengths(margin=0.1)
    for n in range(ALLOWANCE_EVERY - 1):
        lengths.add(0.2 + n / 1000)
    assert lengths.allowance == 0.0  # not estimated before ALLOWANCE_EVERY exchanges
    lengths.add(0.5)
    assert 0.1 < lengths.allowance < 0.2
    for _ in range(ALLOWANCE_EVERY):
        lengths.add(30.0)  # a hung exchange: capped, so a slot is never held long for it
    assert lengths.allowance == ALLOWANCE_MAX


def test_a_claim_stamped_with_the_allowance_settles_without_a_write_and_keeps_the_window(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clock = FakeClock()
    limiter = _taught(DatabaseRateLimiter(limit=1, window=10.0, margin=0.1, clock=clock, sleep=clock.sleep), 0.4)
    assert limiter.lengths.allowance == pytest.approx(0.3)
    first = limiter.acquire("k")
    assert first == pytest.approx(START + 0.3)  # stamped past its time by the allowance
    clock.now += 0.35  # answered within it
    with CaptureQueriesContext(connection) as queries:
        limiter.settle("k", first)
    assert [q["sql"] for q in queries.captured_queries] == []
    other = DatabaseRateLimiter(limit=1, window=10.0, margin=0.1, clock=clock, sleep=clock.sleep)  # a process
    other.acquire("k")
    assert clock.now >= START + 0.35 + 10.0  # a whole window after the first exchange ended


def test_an_exchange_outlasting_the_allowance_still_moves_its_slot(db):
    clock = FakeClock()
    limiter = _taught(DatabaseRateLimiter(limit=1, window=10.0, margin=0.1, clock=clock, sleep=clock.sleep), 0.4)
    first = limiter.acquire("k")
    clock.now += 2.0
    limiter.settle("k", first)
    limiter.acquire("k")
    assert clock.now == pytest.approx(START + 2.0 + 10.0, abs=0.01)


def test_processes_with_different_allowances_never_put_more_than_the_limit_in_a_window(db):
    """Two limiters on one ring (two processes), one taught long exchanges and one none, overlapping exchanges
    of random lengths: each slot is claimed again only a whole window after its last exchange ended, so
    however late in its exchange HighLevel counts a request, no window holds more than `limit` (pigeonhole)."""
    import random

    from integrations.models import RateLimitSlot

    rng = random.Random(23)
    clock = FakeClock()
    limit, window = 5, 10.0
    in_flight: list[tuple[float, DatabaseRateLimiter, float, int, float]] = []  # ends at, limiter, stamp, slot, claimed
    uses: dict[int, list[tuple[float, float]]] = {}  # slot -> (claimed, ended) of each exchange

    def advance(seconds: float) -> None:
        """Time passes (a wait for a slot too): the exchanges that end meanwhile settle when they end."""
        until = clock.now + seconds
        for flight in sorted(f for f in in_flight if f[0] <= until):
            in_flight.remove(flight)
            ends_at, limiter, stamp, slot, claimed = flight
            clock.now = max(clock.now, ends_at)
            limiter.settle("k", stamp)
            uses.setdefault(slot, []).append((claimed, clock.now))
        clock.now = until

    processes = [_taught(DatabaseRateLimiter(limit=limit, window=window, margin=0.1, clock=clock, sleep=advance), 0.5),
                 DatabaseRateLimiter(limit=limit, window=window, margin=0.1, clock=clock, sleep=advance)]
    for _ in range(150):
        advance(rng.uniform(0, 0.3))
        limiter = rng.choice(processes)
        stamp = limiter.acquire("k")
        slot = RateLimitSlot.objects.get(key="k", slot__lt=limit, used_at=stamp).slot
        in_flight.append((clock.now + rng.uniform(0.0, 0.9), limiter, stamp, slot, clock.now))
    assert sum(len(u) for u in uses.values()) > 20 * limit and len(uses) == limit
    for exchanges in uses.values():
        exchanges.sort()
        for (_, ended), (next_claim, _) in itertools.pairwise(exchanges):
            assert next_claim >= ended + window - 1e-6


def test_a_settled_redis_claim_keeps_its_log_alive_until_it_leaves_the_window():
    # The log's expiry was set at the last claim only: after a slow exchange with no claim behind it, the log
    # (and the moved claim) could expire while the claim still counted, and a window take one too many.
    client = redis_or_skip()
    prefix = f"tagscope-test:{uuid.uuid4().hex}"
    clock = FakeClock()
    limiter = RedisRateLimiter(client, prefix=prefix, clock=clock, sleep=clock.sleep, limit=1, window=10.0,
                               margin=0.1)
    log = f"{prefix}:k:log"
    try:
        first = limiter.acquire("k")
        client.pexpire(log, 50)  # as if most of its lifetime had passed while HighLevel answered
        clock.now += 3.0
        limiter.settle("k", first)
        assert client.pttl(log) >= 10_000  # the moved claim counts for a window after the answer
        with pytest.raises(errors.RateLimited):
            RedisRateLimiter(client, prefix=prefix, clock=clock, sleep=clock.sleep, limit=1, window=10.0,
                             margin=0.1, max_wait=5.0).acquire("k")
    finally:
        for name in client.scan_iter(f"{prefix}:*"):
            client.delete(name)


def test_on_sqlite_the_limiters_statements_bypass_djangos_cursor_unless_queries_are_logged(db, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations.models import RateLimitDay, RateLimitSlot

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite fast path")
    clock = FakeClock()
    limiter = DatabaseRateLimiter(limit=2, window=10.0, margin=0.1, clock=clock, sleep=clock.sleep)
    other = DatabaseRateLimiter(limit=2, window=10.0, margin=0.1, clock=clock, sleep=clock.sleep, max_wait=1.0)
    limiter._ensure_ring("app:loc")
    other._ensure_ring("app:loc")  # (its ring is read through the ORM once)
    with CaptureQueriesContext(connection) as queries:
        first = limiter.acquire("app:loc")
    assert any("UPDATE" in q["sql"] and "integrations_ratelimitslot" in q["sql"] for q in queries.captured_queries)

    def no_cursor(*args, **kwargs):
        raise AssertionError("the limiter went through Django's cursor")

    monkeypatch.setattr(connection, "cursor", no_cursor)
    second = limiter.acquire("app:loc")
    clock.now += 5.0
    limiter.settle("app:loc", second)  # outlasted the margin: its slot moves
    limiter.observe("app:loc", 200, CaseInsensitiveDict({"X-RateLimit-Daily-Remaining": "99"}))
    limiter.observe("app:loc", 200, CaseInsensitiveDict({"X-RateLimit-Limit-Daily": "5000"}))  # no remaining
    with pytest.raises(errors.RateLimited):  # both slots taken within the window: the limit holds
        other.acquire("app:loc")
    monkeypatch.undo()
    used = sorted(RateLimitSlot.objects.filter(key="app:loc", slot__lt=2).values_list("used_at", flat=True))
    assert used == [pytest.approx(first), pytest.approx(START + 5.0 - 0.1)]
    day = RateLimitDay.objects.get(key="app:loc")
    assert (day.count, day.reported_remaining) == (2, 99)  # the count stored with the first answer's figures


def test_a_daily_report_without_one_figure_keeps_the_stored_one(db):
    from integrations.models import RateLimitDay

    clock = FakeClock()
    limiter = DatabaseRateLimiter(clock=clock, sleep=clock.sleep)
    limiter._report_daily("app:loc", datetime(2025, 3, 1).date(), 1234, 200_000)
    limiter._report_daily("app:loc", datetime(2025, 3, 1).date(), None, 150_000)
    limiter._report_daily("app:loc", datetime(2025, 3, 1).date(), 1000, None)
    row = RateLimitDay.objects.get(key="app:loc")
    assert (row.reported_remaining, row.reported_limit) == (1000, 150_000)
    assert limiter._day_state("app:loc", datetime(2025, 3, 1).date()) == (0, 1000)
    assert limiter._day_state("app:loc", datetime(2025, 3, 2).date()) == (0, None)
