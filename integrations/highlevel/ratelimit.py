"""One rate limiter shared by every process: HighLevel's 100 requests per 10 s and 200,000 per day.

A bucket per marketplace app and resource (location or company), keyed `"<app_id>:<resource_id>"`.
Every request first calls `acquire(key)`, which waits (with the injected sleep and clock) until a
slot of a strict sliding-window log is free, so we wait instead of earning 429s, and `settle(key,
claimed_at)` once its exchange is over. `observe(key, status, headers)` learns from each
answer: a 429 (or `X-RateLimit-Remaining: 0` while we believed slots were free) blocks the bucket, and
the daily figures are stored; once the daily quota is known spent, `acquire` raises QuotaExhausted
instead of sending.

Backends share those semantics: RedisRateLimiter (ratelimit_redis.py: a Lua script over a sorted set),
MemoryRateLimiter (ratelimit_memory.py: one process; unit tests) and, outside this package because it
needs the ORM, DatabaseRateLimiter (integrations/clients/limiter_db.py: a ring of RateLimitSlot rows
claimed by a conditional UPDATE, correct on SQLite and PostgreSQL without SELECT FOR UPDATE). The client
is handed one; integrations/clients/limiters.py picks the process-wide one (Redis when REDIS_URL is set,
the database otherwise).

When does a request count at HighLevel? Somewhere between our claim and the end of the exchange. A slot
therefore stays taken for the window after its claim plus `margin` seconds, or, when the exchange took
longer than the margin (a slow answer, a starved CPU, a timeout), for the window after the exchange ended:
`settle` moves the slot's time then. However late a request reaches HighLevel, the one that reuses its slot
is sent a whole window after it arrived, so no window at HighLevel ever holds more than `limit`, provided the
exchange settles within a window of its claim (before then the slot cannot be claimed again; at HighLevel's
10 s, only a thread stalled for seconds between the claim and its answer could miss it). Nor may the
claim's own time be stale when `acquire` answers: it is the time the claim was asked for, and granting it can
take longer than the margin (a file ring's flock held by a thread that lost the CPU, SQLite's write lock, a
Redis pool connection, the day count's write). A claim answered later than half the margin moves its slot to
the time it is answered (`_granted`), so the margin covers only the way from `acquire` to the wire.

Requests made inside `background()` (a statistics backfill) yield: while an ordinary request of the same
bucket waits for a slot, they do not take one, so a location's tags refresh is not queued behind hundreds
of one-day statistics requests. When nothing else waits they use every slot, so nothing is lost to it.

Within one process, the threads waiting for a slot of the same bucket share what the store said (`_Waits`): a
refused claim answers when the next few slots free (`UPCOMING`), and each waiting thread of the process is
given a slot of its own to wait for, in order (a ticket), so they wake one per freed slot instead of all at
the first one (where one won and the others were refused, a claim and a read each). A process then asks the
store about once per request. Claims themselves stay concurrent: on SQLite a claim may wait for the write
lock, and one thread's wait must not hold the others back. The store still decides every claim, so the limit
holds across processes as before; the tickets only decide when this process asks (one asking early is
refused, one asking late loses nothing that another process could not have taken anyway). Ordinary and
yielding requests are ticketed apart.

Requests are counted per day in memory and stored with the daily figures (at most every DAILY_REPORT_EVERY
seconds per bucket; on the database by one thread of a process at a time, the others leaving theirs in memory
for a later request rather than waiting); the stored day state is read at most every DAY_STATE_TTL seconds. So
processes see each other's counts a few seconds late: the daily limit can be passed by that many seconds'
worth of requests, which HighLevel then refuses with a 429 that blocks the bucket, as any 429 does (and every
answer's daily remaining reaches the process that got it at once).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from integrations.highlevel.errors import QuotaExhausted, RateLimited, header_int
from integrations.highlevel.retry import wait_from_headers

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
DEFAULT_WINDOW = 10.0
DEFAULT_DAILY_LIMIT = 200_000
DEFAULT_MARGIN = 0.1
DEFAULT_MAX_WAIT = 120.0
# HighLevel's daily figures arrive with every answer; storing them every 5 s per bucket is enough for the
# Operations page (and as often as other processes read them, DAY_STATE_TTL) and spares the writes of 50
# requests, except near the end of the quota, where every answer counts.
DAILY_REPORT_EVERY = 5.0
DAILY_REPORT_LOW = 0.05
WANT_GRACE = 0.25  # an ordinary request's claim on the next free slot outlasts its wait by this much
UPCOMING = 32  # a refused claim answers when this many of the bucket's next slots free (tickets to hand out)
RESTAMP_TRIES = 3  # a claim answered late is moved at most this many times (each move may wait too)
DAY_STATE_TTL = 5.0  # seconds a process trusts the stored day state it read (HighLevel's answers update it)


_background: contextvars.ContextVar[bool] = contextvars.ContextVar("ratelimit_background", default=False)


@contextlib.contextmanager
def background() -> Iterator[None]:
    """Requests made in this context (and in threads started with a copy of it) yield to ordinary ones."""
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


class RateLimiter(Protocol):
    def acquire(self, key: str) -> float: ...

    def settle(self, key: str, claimed_at: float) -> None: ...

    def observe(self, key: str, status: int | None, headers: Mapping[str, str]) -> None: ...


def bucket_key(app_id: str, resource_id: str) -> str:
    return f"{app_id or '-'}:{resource_id or '-'}"


class _Waits:
    """When the next slots of one bucket free, as this process last heard from the store, and how many of its
    threads wait for one (ordinary and yielding requests apart). Each waiting thread holds a ticket: the free
    time of a slot no other thread of the process waits for."""

    __slots__ = ("free_at", "lock", "waiting", "wanted_until")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.free_at: deque[float] = deque()  # known slots that no thread of ours waits for yet, in order
        self.waiting = 0  # threads holding a ticket, not yet woken
        self.wanted_until = 0.0  # the want this process last stood for the bucket (ordinary requests)

    def take(self) -> float | None:
        """A ticket for a thread about to ask: the next known slot's free time (None: none known, ask now)."""
        with self.lock:
            if not self.free_at:
                return None
            self.waiting += 1
            return self.free_at.popleft()

    def refused(self, now: float, wait: float, later: Sequence[float]) -> float:
        """A ticket for a thread the store just refused: the free time of the first slot that the threads of
        ours already waiting do not (they hold the earliest); the slots after it are kept for the next ones."""
        times = [now + wait, *(now + seconds for seconds in later)]
        with self.lock:
            mine = min(self.waiting, len(times) - 1)  # past what is known: the latest known, a lower bound
            self.free_at = deque(times[mine + 1:])
            self.waiting += 1
            return times[mine]

    def woke(self) -> None:
        with self.lock:
            self.waiting -= 1


class BaseRateLimiter:
    """The acquire/observe logic; subclasses store the log, the block and the daily counts."""

    def __init__(
        self,
        *,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        daily_limit: int | None = DEFAULT_DAILY_LIMIT,
        margin: float = DEFAULT_MARGIN,
        max_wait: float = DEFAULT_MAX_WAIT,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window + margin
        self.margin = margin
        self.daily_limit = daily_limit
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self._waits: dict[tuple[str, bool], _Waits] = {}
        self._waits_lock = threading.Lock()
        self._daily_reported: dict[str, tuple[float, date, int | None]] = {}
        self._day_lock = threading.Lock()
        self._day_seen: dict[str, tuple[float, date, int, int | None]] = {}  # read at, day, count, remaining
        self._uncounted: dict[tuple[str, date], int] = {}
        self._counted_at: dict[str, float] = {}

    # -- storage hooks ------------------------------------------------------------------------------------
    def _try_claim(self, key: str, now: float, *, yielding: bool = False) -> tuple[bool, float, Sequence[float]]:
        """Claim a slot: (True, the claim's time, ()) or (False, seconds until one may free, seconds until each
        of the next few slots frees after that one: up to UPCOMING - 1, in order, or none when unknown).
        `yielding`: claim nothing while an ordinary request waits (`_want`), and answer how long that lasts."""
        raise NotImplementedError

    def _want(self, key: str, until: float) -> None:
        """An ordinary request waits for a slot of `key`: yielding claims take none before `until` (0: the
        waiting is over; another ordinary request still waiting says so again at its next try)."""
        raise NotImplementedError

    def _block_until(self, key: str, until: float) -> None:
        """No slot of `key` may be claimed before `until`."""
        raise NotImplementedError

    def _fill_free_slots(self, key: str, now: float) -> None:
        """HighLevel says the window is full: treat every slot we thought free as used `now`."""
        raise NotImplementedError

    def _move_claim(self, key: str, claimed_at: float, used_at: float) -> None:
        """The slot claimed at `claimed_at` counts as used at `used_at` (later) instead, if it is still ours."""
        raise NotImplementedError

    def _day_state(self, key: str, day: date) -> tuple[int, int | None]:
        """(requests counted today, daily remaining HighLevel last reported or None), as stored."""
        raise NotImplementedError

    def _count(self, key: str, day: date, n: int) -> None:
        """Add `n` requests to the stored count of the day."""
        raise NotImplementedError

    def _report_daily(self, key: str, day: date, remaining: int | None, limit: int | None) -> None:
        raise NotImplementedError

    # -- public API ---------------------------------------------------------------------------------------
    def acquire(self, key: str) -> float:
        """Wait for a slot of `key` and answer the claim's time (epoch seconds).

        Raises QuotaExhausted when the daily quota is known spent, RateLimited when the wait would pass
        `max_wait` (its `.wait` says how long), so a job can be rescheduled instead of holding a worker.
        """
        now = self.clock()
        day = _utc_day(now)
        counted, reported_remaining = self._day_view(key, day, now)
        if (reported_remaining is not None and reported_remaining <= 0) or (
            self.daily_limit is not None and counted >= self.daily_limit
        ):
            raise QuotaExhausted(
                f"daily quota of {key} spent", wait=_seconds_to_next_utc_day(now), status=None
            )
        yielding = _background.get()
        waits = self._waits_of(key, yielding)
        due = waits.take()
        waited = 0.0
        while True:
            if due is not None:
                waited += self._wait_for_ticket(key, waits, due, waited, yielding=yielding)
                due = None
            now = self.clock()
            claimed, value, later = self._try_claim(key, now, yielding=yielding)
            if claimed:
                if not yielding and waits.wanted_until and not waits.waiting:
                    waits.wanted_until = 0.0
                    self._want(key, 0.0)  # served, and no request of ours waits: background ones may claim
                break
            wait = value
            if waited + wait > self.max_wait:
                raise RateLimited(f"rate limit of {key} needs a {wait:.1f}s wait", wait=wait)
            due = waits.refused(now, wait, later)
            if not yielding:
                waits.wanted_until = max(waits.wanted_until, due + WANT_GRACE)
                self._want(key, due + WANT_GRACE)
        self._count_later(key, day)
        return self._granted(key, value)

    def _granted(self, key: str, claimed_at: float) -> float:
        """The claim stamped `claimed_at`, its slot moved to the time `acquire` answers when that is more than
        half the margin later (see the module's doc); the move may wait as well, so up to RESTAMP_TRIES
        times. Measured from the stamp, not from the clock read before asking: Redis and memory stamp a claim
        read with a stale clock just after the newest claim, and measuring from the read moved such a claim
        ahead of the time (the next claim stamped after it, moved ahead again: the log ran into the future).
        Moving a slot later only lengthens its hold: the limit keeps."""
        for _ in range(RESTAMP_TRIES):
            answered = self.clock() + self._stamp_lead()
            if answered - claimed_at <= self.margin / 2:
                break
            claimed_at = self._restamp(key, claimed_at, answered)
        return claimed_at

    def _stamp_lead(self) -> float:
        """How far past its claim's time a store stamps a slot (the database's and file's allowance)."""
        return 0.0

    def _restamp(self, key: str, claimed_at: float, used_at: float) -> float:
        self._move_claim(key, claimed_at, used_at)
        return used_at

    def _waits_of(self, key: str, yielding: bool) -> _Waits:
        waits = self._waits.get((key, yielding))
        if waits is None:
            with self._waits_lock:
                waits = self._waits.setdefault((key, yielding), _Waits())
        return waits

    def _wait_for_ticket(self, key: str, waits: _Waits, due: float, waited: float, *, yielding: bool) -> float:
        """Sleep until the ticket's slot frees (a hair over, so float rounding cannot spin on an almost-free
        slot); answer the seconds slept. Raises RateLimited when that would pass `max_wait`."""
        try:
            pause = due - self.clock() + 0.001
            if pause <= 0.001:
                return 0.0
            if waited + pause > self.max_wait:
                raise RateLimited(f"rate limit of {key} needs a {pause:.1f}s wait", wait=pause)
            if not yielding and due + WANT_GRACE > waits.wanted_until:
                waits.wanted_until = due + WANT_GRACE
                self._want(key, waits.wanted_until)
            self.sleep(pause)
            return pause
        finally:
            waits.woke()

    def settle(self, key: str, claimed_at: float) -> None:
        """The exchange of the request claimed at `claimed_at` has just ended (answered or not): if that is
        later than the margin covers, its slot counts from now on."""
        used_at = self.clock() - self.margin
        if used_at > claimed_at:
            self._move_claim(key, claimed_at, used_at)

    def observe(self, key: str, status: int | None, headers: Mapping[str, str]) -> None:
        if status is None:
            return
        now = self.clock()
        daily_remaining = header_int(headers, "X-RateLimit-Daily-Remaining")
        daily_limit = header_int(headers, "X-RateLimit-Limit-Daily")
        if daily_remaining is not None or daily_limit is not None:
            day = _utc_day(now)
            with self._day_lock:  # this process knows at once
                seen = self._day_seen.get(key)
                if seen is not None and seen[1] == day and daily_remaining is not None:
                    self._day_seen[key] = (seen[0], day, seen[2], daily_remaining)
            with self._day_writes() as turn:
                if turn and self._daily_report_due(key, now, daily_remaining, daily_limit):
                    self._report_daily(key, day, daily_remaining, daily_limit)
                    self._store_counts_now(key, now)
        if status == 429:
            wait = wait_from_headers(headers, now=now)
            if wait is None:
                wait = self.window
            self._block_until(key, now + wait)
            logger.info("rate limit: %s blocked for %.1fs after a 429", key, wait)
        elif header_int(headers, "X-RateLimit-Remaining") == 0:
            self._fill_free_slots(key, now)

    def _day_view(self, key: str, day: date, now: float) -> tuple[int, int | None]:
        """(requests counted today, stored and ours not yet stored; the daily remaining last reported)."""
        with self._day_lock:
            seen = self._day_seen.get(key)
        if seen is None or seen[1] != day or now - seen[0] >= DAY_STATE_TTL:
            count, remaining = self._day_state(key, day)
            seen = (now, day, count, remaining)
            with self._day_lock:
                self._day_seen[key] = seen
        with self._day_lock:
            return seen[2] + self._uncounted.get((key, day), 0), seen[3]

    def _count_later(self, key: str, day: date) -> None:
        with self._day_lock:
            self._uncounted[(key, day)] = self._uncounted.get((key, day), 0) + 1
            due = self.clock() - self._counted_at.get(key, 0.0) >= DAILY_REPORT_EVERY
        if due:  # no answer stores them (transport errors only): store them here, every DAILY_REPORT_EVERY
            with self._day_writes() as turn:
                if turn:
                    self._store_counts_now(key, self.clock())

    @contextlib.contextmanager
    def _day_writes(self) -> Iterator[bool]:
        """Whether this thread may write the day's figures now (True), or should leave them for a later
        request (False: they stay counted in memory, and are due again at once). Always, unless a backend says
        otherwise (the database: another thread of the process is writing them)."""
        yield True

    def _store_counts_now(self, key: str, now: float) -> None:
        with self._day_lock:
            self._counted_at[key] = now
            pending = [(day, n) for (k, day), n in self._uncounted.items() if k == key and n]
            for day, _ in pending:
                del self._uncounted[(key, day)]
            seen = self._day_seen.get(key)
            for day, n in pending:
                if seen is not None and seen[1] == day:
                    seen = (seen[0], day, seen[2] + n, seen[3])
                    self._day_seen[key] = seen
        for day, n in pending:
            self._count(key, day, n)

    def _daily_report_due(self, key: str, now: float, remaining: int | None, limit: int | None) -> bool:
        last = self._daily_reported.get(key)
        day = _utc_day(now)
        due = (last is None or last[1] != day or now - last[0] >= DAILY_REPORT_EVERY or last[2] != limit
               or _low(remaining, limit))
        if due:
            self._daily_reported[key] = (now, day, limit)
        return due


def _low(remaining: int | None, limit: int | None) -> bool:
    return remaining is not None and remaining <= (limit or DEFAULT_DAILY_LIMIT) * DAILY_REPORT_LOW


def _utc_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, tz=UTC).date()


def _seconds_to_next_utc_day(ts: float) -> float:
    day = _utc_day(ts)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return max(0.0, midnight.timestamp() - ts)
