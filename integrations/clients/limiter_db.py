"""The rate limiter over the database: a ring of RateLimitSlot rows per bucket, claimed with a conditional
UPDATE (correct on SQLite and PostgreSQL without SELECT FOR UPDATE), and RateLimitDay rows for the daily
quota. The semantics are BaseRateLimiter's (integrations/highlevel/ratelimit.py); `get_rate_limiter()`
(limiters.py) picks this backend when no Redis is configured.
"""

from __future__ import annotations

import contextlib
import functools
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

from integrations.db import idle, plain_statement
from integrations.highlevel.ratelimit import UPCOMING, BaseRateLimiter


def _retry_locked(method: Callable[..., Any]) -> Callable[..., Any]:
    """SQLite can answer "database table is locked" at once (shared-cache connections, as in the test
    database) instead of waiting out the busy timeout; such a statement changed nothing, so try again."""

    @functools.wraps(method)
    def wrapper(self: DatabaseRateLimiter, *args: Any, **kwargs: Any) -> Any:
        from django.db import OperationalError

        for attempt in range(LOCKED_RETRIES):
            try:
                return method(self, *args, **kwargs)
            except OperationalError as exc:
                if "locked" not in str(exc) or attempt == LOCKED_RETRIES - 1:
                    raise
                time.sleep(self._lock_rng.uniform(0.001, 0.02))
        raise AssertionError("unreachable")

    return wrapper


LOCKED_RETRIES = 200
STARTED_KEPT = 10_000


# The claim is the hot path of every request: plain SQL (double-quoted identifiers suit SQLite and
# PostgreSQL alike) spares the ORM's compiling on each call. The least recently used free slot is claimed
# only while it is still free: on PostgreSQL a second writer re-checks `used_at` on the row it waited for,
# and claims nothing. Parameters: now, key, key, limit, cutoff, cutoff.
CLAIM_SQL = (
    'UPDATE "integrations_ratelimitslot" SET "used_at" = %s WHERE "key" = %s AND "slot" = ('
    'SELECT "slot" FROM "integrations_ratelimitslot" WHERE "key" = %s AND "slot" < %s AND "used_at" <= %s '
    'ORDER BY "used_at", "slot" LIMIT 1) AND "used_at" <= %s'
)
# When a claim is refused: the times of the ring's oldest slots, the first the one to free next (the
# (key, used_at) index answers in order). Parameters: key, limit, how many.
OLDEST_SQL = ('SELECT "used_at" FROM "integrations_ratelimitslot" WHERE "key" = %s AND "slot" < %s '
              'ORDER BY "used_at" LIMIT %s')
# A yielding claim (ratelimit.background) also needs the bucket's want row, a slot number past any ring, to
# lie in the past: no ordinary request waits. Parameters: CLAIM_SQL's, then key, WANT_SLOT, now.
WANT_SLOT = 2_147_483_647
CLAIM_YIELDING_SQL = CLAIM_SQL + (  # noqa: S608 (constants only)
    ' AND NOT EXISTS (SELECT 1 FROM "integrations_ratelimitslot" WHERE "key" = %s AND "slot" = %s AND "used_at" > %s)'
)
WANTED_SQL = 'SELECT "used_at" FROM "integrations_ratelimitslot" WHERE "key" = %s AND "slot" = %s'
WANT_SQL = ('UPDATE "integrations_ratelimitslot" SET "used_at" = %s '
            'WHERE "key" = %s AND "slot" = %s AND "used_at" < %s')
UNWANT_SQL = 'UPDATE "integrations_ratelimitslot" SET "used_at" = 0 WHERE "key" = %s AND "slot" = %s'

# A settled claim (ratelimit.py): its slot counts from the end of its exchange. Parameters: used_at, key, limit,
# claimed_at.
MOVE_SQL = ('UPDATE "integrations_ratelimitslot" SET "used_at" = %s '
            'WHERE "key" = %s AND "slot" < %s AND "used_at" = %s')

# HighLevel's answers say the window is full, or a 429 blocks the bucket: slots free before `until` count as
# used then. Parameters: used_at, key, limit, cutoff.
PUSH_SQL = ('UPDATE "integrations_ratelimitslot" SET "used_at" = %s '
            'WHERE "key" = %s AND "slot" < %s AND "used_at" <= %s')
# The day's count and HighLevel's figures, stored every few seconds per bucket: plain SQL too.
DAY_ROW_SQL = ('INSERT INTO "integrations_ratelimitday" ("key", "day", "count") VALUES (%s, %s, 0) '
               'ON CONFLICT ("key", "day") DO NOTHING')
COUNT_SQL = 'UPDATE "integrations_ratelimitday" SET "count" = "count" + %s WHERE "key" = %s AND "day" = %s'
DAY_STATE_SQL = ('SELECT "count", "reported_remaining" FROM "integrations_ratelimitday" '
                 'WHERE "key" = %s AND "day" = %s')
REPORT_SQL = ('UPDATE "integrations_ratelimitday" SET "reported_remaining" = COALESCE(%s, "reported_remaining"), '
              '"reported_limit" = COALESCE(%s, "reported_limit") WHERE "key" = %s AND "day" = %s')


# A claim stamps its slot this much past its own time: the exchange's usual length (a high quantile of this
# process's recent exchanges, less the margin), so `settle` writes only for the exchanges that outlast it.
ALLOWANCE_QUANTILE = 0.8
ALLOWANCE_MAX = 1.0  # seconds; a slower exchange settles with a write, as every one did before
ALLOWANCE_SAMPLES = 200
ALLOWANCE_EVERY = 50  # settles between two estimates


class ExchangeLengths:
    """Recent exchange lengths of this process, and the allowance they suggest (see ALLOWANCE_QUANTILE)."""

    def __init__(self, margin: float) -> None:
        self.margin = margin
        self.allowance = 0.0
        self._lengths: deque[float] = deque(maxlen=ALLOWANCE_SAMPLES)
        self._since = 0
        self._lock = threading.Lock()

    def add(self, length: float) -> None:
        with self._lock:
            self._lengths.append(length)
            self._since += 1
            if self._since < ALLOWANCE_EVERY:
                return
            self._since = 0
            ordered = sorted(self._lengths)
        quantile = ordered[min(len(ordered) - 1, int(len(ordered) * ALLOWANCE_QUANTILE))]
        self.allowance = min(ALLOWANCE_MAX, max(0.0, quantile - self.margin))


class DatabaseRateLimiter(BaseRateLimiter):
    """A ring of `limit` RateLimitSlot rows per key; a request claims the least recently used slot
    whose `used_at` is older than the window with a conditional UPDATE and checks the row count.

    Each slot can be claimed at most once per window, so no window ever holds more than `limit`
    claims, across every process. Every statement autocommits: no transaction is held while waiting
    or while the HTTP request runs.

    A claim stamps its slot with its time plus the allowance (ExchangeLengths): the slot frees a window after
    the exchange's usual end instead of after its start, so most settles find their slot already late enough
    and write nothing (one write per request, not two). The stamp is written before the request leaves, so a
    worker killed mid-exchange leaves its slot taken at least as long as before.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("sleep", idle)  # a thread waiting for a slot holds no pooled connection
        super().__init__(**kwargs)
        self._ready: set[str] = set()
        self._ready_lock = threading.Lock()
        self._lock_rng = random.Random()
        self.lengths = ExchangeLengths(self.margin)
        self._started: dict[float, float] = {}  # a claim's stamp -> its time, until it is settled
        self._day_writing = threading.Lock()

    def _ensure_ring(self, key: str) -> None:
        if key in self._ready:
            return
        from integrations.models import RateLimitSlot

        wanted = [*range(self.limit), WANT_SLOT]
        have = set(RateLimitSlot.objects.filter(key=key, slot__in=wanted).values_list("slot", flat=True))
        missing = [RateLimitSlot(key=key, slot=i, used_at=0.0) for i in wanted if i not in have]
        if missing:
            RateLimitSlot.objects.bulk_create(missing, ignore_conflicts=True)
        with self._ready_lock:
            self._ready.add(key)

    @_retry_locked
    def _try_claim(self, key: str, now: float, *, yielding: bool = False) -> tuple[bool, float, Sequence[float]]:
        self._ensure_ring(key)
        cutoff = now - self.window
        stamp = now + self.lengths.allowance
        claim, params = CLAIM_SQL, [stamp, key, key, self.limit, cutoff, cutoff]
        if yielding:
            claim, params = CLAIM_YIELDING_SQL, [*params, key, WANT_SLOT, now]
        for _ in range(self.limit):
            if plain_statement(claim, params)[0] == 1:
                self._claimed(stamp, now)
                return True, stamp, ()
            if yielding:
                wanted = plain_statement(WANTED_SQL, [key, WANT_SLOT])[1]
                if wanted and wanted[0] > now:
                    return False, wanted[0] - now, ()
            oldest = plain_statement(OLDEST_SQL, [key, self.limit, UPCOMING], rows=True)[1]
            if not oldest:  # the ring was deleted under us (a flushed test database)
                with self._ready_lock:
                    self._ready.discard(key)
                self._ensure_ring(key)
                continue
            if oldest[0][0] > cutoff:
                return (False, max(0.001, oldest[0][0] + self.window - now),
                        [used_at + self.window - now for (used_at,) in oldest[1:]])
            # A slot was free but another process claimed it first; look again.
        return False, 0.001, ()

    @contextlib.contextmanager
    def _day_writes(self) -> Iterator[bool]:
        """One thread of the process writes the daily figures at a time, and the others do not wait for it:
        such a write may wait for SQLite's write lock, and requests (a worker's lanes) queued behind it
        while the mirror held that lock. Theirs stay counted in memory and are written at a later request."""
        if not self._day_writing.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            self._day_writing.release()

    def _claimed(self, stamp: float, now: float) -> None:
        """A claim stamped `stamp` at `now`: its exchange's length is learnt when it settles."""
        with self._ready_lock:
            if len(self._started) > STARTED_KEPT:  # claims never settled (their thread died)
                self._started.clear()
            self._started[stamp] = now

    @_retry_locked
    def _want(self, key: str, until: float) -> None:
        self._ensure_ring(key)
        if until:
            plain_statement(WANT_SQL, [until, key, WANT_SLOT, until])
        else:
            plain_statement(UNWANT_SQL, [key, WANT_SLOT])

    def _stamp_lead(self) -> float:
        return self.lengths.allowance

    def _restamp(self, key: str, claimed_at: float, used_at: float) -> float:
        with self._ready_lock:  # the exchange still counts from the claim: the wait is part of its length
            started = self._started.pop(claimed_at, None)
            if started is not None:
                self._started[used_at] = started
        return super()._restamp(key, claimed_at, used_at)

    def settle(self, key: str, claimed_at: float) -> None:
        with self._ready_lock:
            started = self._started.pop(claimed_at, None)
        if started is not None:
            self.lengths.add(self.clock() - started)
        super().settle(key, claimed_at)

    @_retry_locked
    def _move_claim(self, key: str, claimed_at: float, used_at: float) -> None:
        plain_statement(MOVE_SQL, [used_at, key, self.limit, claimed_at])

    @_retry_locked
    def _block_until(self, key: str, until: float) -> None:
        self._ensure_ring(key)
        # Push every slot so none frees before `until`.
        self._execute(PUSH_SQL, [until - self.window, key, self.limit, until - self.window])

    @_retry_locked
    def _fill_free_slots(self, key: str, now: float) -> None:
        self._ensure_ring(key)
        self._execute(PUSH_SQL, [now, key, self.limit, now - self.window])

    @staticmethod
    def _execute(sql: str, params: list[Any]) -> int:
        return plain_statement(sql, params)[0]

    @_retry_locked
    def _day_state(self, key: str, day: date) -> tuple[int, int | None]:
        from django.db import connection

        row = plain_statement(DAY_STATE_SQL, [key, connection.ops.adapt_datefield_value(day)])[1]
        return (row[0], row[1]) if row else (0, None)

    @_retry_locked
    def _count(self, key: str, day: date, n: int) -> None:
        from django.db import connection

        stored_day = connection.ops.adapt_datefield_value(day)
        if not self._execute(COUNT_SQL, [n, key, stored_day]):
            self._execute(DAY_ROW_SQL, [key, stored_day])
            self._execute(COUNT_SQL, [n, key, stored_day])

    @_retry_locked
    def _report_daily(self, key: str, day: date, remaining: int | None, limit: int | None) -> None:
        from django.db import connection

        if remaining is None and limit is None:
            return
        stored_day = connection.ops.adapt_datefield_value(day)
        params = [remaining, limit, key, stored_day]
        if not self._execute(REPORT_SQL, params):
            self._execute(DAY_ROW_SQL, [key, stored_day])
            self._execute(REPORT_SQL, params)
