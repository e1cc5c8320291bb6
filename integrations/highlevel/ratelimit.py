"""One rate limiter shared by every process: HighLevel's 100 requests per 10 s and 200,000 per day.

A bucket per marketplace app and resource (location or company), keyed `"<app_id>:<resource_id>"`.
Every request first calls `acquire(key)`, which waits (with the injected sleep and clock) until a
slot of a strict sliding-window log is free, so we wait instead of earning 429s. `observe(key,
status, headers)` learns from each answer: a 429 (or `X-RateLimit-Remaining: 0` while we believed
slots were free) blocks the bucket, and the daily figures are stored; once the daily quota is known
spent, `acquire` raises QuotaExhausted instead of sending.

Backends share those semantics: DatabaseRateLimiter (a ring of RateLimitSlot rows claimed by a
conditional UPDATE, correct on SQLite and PostgreSQL without SELECT FOR UPDATE), RedisRateLimiter (a
Lua script over a sorted set), MemoryRateLimiter (one process; unit tests). `get_rate_limiter()`
picks Redis when settings.REDIS_URL is set, the database otherwise.

The window used is the published one plus `margin` seconds: a request is claimed a moment before
it reaches HighLevel, and uneven network latency must not squeeze 101 arrivals into HighLevel's window.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from integrations.highlevel.errors import QuotaExhausted, RateLimited
from integrations.highlevel.retry import wait_from_headers

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
DEFAULT_WINDOW = 10.0
DEFAULT_DAILY_LIMIT = 200_000
DEFAULT_MARGIN = 0.25
DEFAULT_MAX_WAIT = 120.0


class RateLimiter(Protocol):
    def acquire(self, key: str) -> None: ...

    def observe(self, key: str, status: int | None, headers: Mapping[str, str]) -> None: ...


def bucket_key(app_id: str, resource_id: str) -> str:
    return f"{app_id or '-'}:{resource_id or '-'}"


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        value = headers.get(name)
        return int(float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


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
        self.daily_limit = daily_limit
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep

    # -- storage hooks ------------------------------------------------------------------------------------
    def _try_claim(self, key: str, now: float) -> tuple[bool, float]:
        """Claim a slot: (True, the claim's time) or (False, seconds until one may free)."""
        raise NotImplementedError

    def _block_until(self, key: str, until: float) -> None:
        """No slot of `key` may be claimed before `until`."""
        raise NotImplementedError

    def _fill_free_slots(self, key: str, now: float) -> None:
        """HighLevel says the window is full: treat every slot we thought free as used `now`."""
        raise NotImplementedError

    def _day_state(self, key: str, day: date) -> tuple[int, int | None]:
        """(requests we counted today, daily remaining HighLevel last reported or None)."""
        raise NotImplementedError

    def _count(self, key: str, day: date) -> None:
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
        counted, reported_remaining = self._day_state(key, day)
        if (reported_remaining is not None and reported_remaining <= 0) or (
            self.daily_limit is not None and counted >= self.daily_limit
        ):
            raise QuotaExhausted(
                f"daily quota of {key} spent", wait=_seconds_to_next_utc_day(now), status=None
            )
        waited = 0.0
        while True:
            now = self.clock()
            claimed, value = self._try_claim(key, now)
            if claimed:
                break
            wait = value
            if waited + wait > self.max_wait:
                raise RateLimited(f"rate limit of {key} needs a {wait:.1f}s wait", wait=wait)
            # A hair over the computed wait, so float rounding cannot spin on an almost-free slot.
            pause = wait + 0.001
            self.sleep(pause)
            waited += pause
        self._count(key, day)
        return value

    def observe(self, key: str, status: int | None, headers: Mapping[str, str]) -> None:
        if status is None:
            return
        now = self.clock()
        daily_remaining = _header_int(headers, "X-RateLimit-Daily-Remaining")
        daily_limit = _header_int(headers, "X-RateLimit-Limit-Daily")
        if daily_remaining is not None or daily_limit is not None:
            self._report_daily(key, _utc_day(now), daily_remaining, daily_limit)
        if status == 429:
            wait = wait_from_headers(headers, now=now)
            if wait is None:
                wait = self.window
            self._block_until(key, now + wait)
            logger.info("rate limit: %s blocked for %.1fs after a 429", key, wait)
        elif _header_int(headers, "X-RateLimit-Remaining") == 0:
            self._fill_free_slots(key, now)


def _utc_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, tz=UTC).date()


def _seconds_to_next_utc_day(ts: float) -> float:
    day = _utc_day(ts)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return max(0.0, midnight.timestamp() - ts)


# --- in memory --------------------------------------------------------------------------------------------
class MemoryRateLimiter(BaseRateLimiter):
    """One process only (unit tests, scripts): a deque of claim times per key."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._log: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}
        self._days: dict[tuple[str, date], list[Any]] = {}

    def _try_claim(self, key: str, now: float) -> tuple[bool, float]:
        with self._lock:
            blocked = self._blocked.get(key, 0.0)
            if blocked > now:
                return False, blocked - now
            log = self._log.setdefault(key, deque())
            # Threads read the clock before taking the lock: keep the log in order.
            now = max(now, log[-1]) if log else now
            while log and log[0] <= now - self.window:
                log.popleft()
            if len(log) < self.limit:
                log.append(now)
                return True, now
            return False, log[0] + self.window - now

    def _block_until(self, key: str, until: float) -> None:
        with self._lock:
            self._blocked[key] = max(self._blocked.get(key, 0.0), until)

    def _fill_free_slots(self, key: str, now: float) -> None:
        with self._lock:
            log = self._log.setdefault(key, deque())
            while log and log[0] <= now - self.window:
                log.popleft()
            log.extend([max(now, log[-1]) if log else now] * (self.limit - len(log)))

    def _day(self, key: str, day: date) -> list[Any]:
        return self._days.setdefault((key, day), [0, None, None])

    def _day_state(self, key: str, day: date) -> tuple[int, int | None]:
        with self._lock:
            entry = self._day(key, day)
            return entry[0], entry[1]

    def _count(self, key: str, day: date) -> None:
        with self._lock:
            self._day(key, day)[0] += 1

    def _report_daily(self, key: str, day: date, remaining: int | None, limit: int | None) -> None:
        with self._lock:
            entry = self._day(key, day)
            if remaining is not None:
                entry[1] = remaining
            if limit is not None:
                entry[2] = limit

    def claims(self, key: str) -> list[float]:
        """Claim times still in the log (for tests)."""
        return list(self._log.get(key, ()))


# --- database ---------------------------------------------------------------------------------------------
def _retry_locked(method: Callable[..., Any]) -> Callable[..., Any]:
    """SQLite can answer "database table is locked" at once (shared-cache connections, as in the test
    database) instead of waiting out the busy timeout; such a statement changed nothing, so try again."""

    @functools.wraps(method)
    def wrapper(self: DatabaseRateLimiter, *args: Any) -> Any:
        from django.db import OperationalError

        for attempt in range(LOCKED_RETRIES):
            try:
                return method(self, *args)
            except OperationalError as exc:
                if "locked" not in str(exc) or attempt == LOCKED_RETRIES - 1:
                    raise
                time.sleep(self._lock_rng.uniform(0.001, 0.02))
        raise AssertionError("unreachable")

    return wrapper


LOCKED_RETRIES = 200


class DatabaseRateLimiter(BaseRateLimiter):
    """A ring of `limit` RateLimitSlot rows per key; a request claims the least recently used slot
    whose `used_at` is older than the window with a conditional UPDATE and checks the row count.

    Each slot can be claimed at most once per window, so no window ever holds more than `limit`
    claims, across every process. Every statement autocommits: no transaction is held while waiting
    or while the HTTP request runs.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ready: set[str] = set()
        self._ready_lock = threading.Lock()
        self._lock_rng = random.Random()

    def _ensure_ring(self, key: str) -> None:
        if key in self._ready:
            return
        from integrations.models import RateLimitSlot

        have = set(RateLimitSlot.objects.filter(key=key, slot__lt=self.limit).values_list("slot", flat=True))
        missing = [RateLimitSlot(key=key, slot=i, used_at=0.0) for i in range(self.limit) if i not in have]
        if missing:
            RateLimitSlot.objects.bulk_create(missing, ignore_conflicts=True)
        with self._ready_lock:
            self._ready.add(key)

    def _slots(self, key: str) -> Any:
        from integrations.models import RateLimitSlot

        return RateLimitSlot.objects.filter(key=key, slot__lt=self.limit)

    @_retry_locked
    def _try_claim(self, key: str, now: float) -> tuple[bool, float]:
        self._ensure_ring(key)
        cutoff = now - self.window
        for _ in range(self.limit):
            free = (
                self._slots(key).filter(used_at__lte=cutoff).order_by("used_at", "slot")
                .values_list("slot", "used_at").first()
            )
            if free is None:
                oldest = self._slots(key).order_by("used_at").values_list("used_at", flat=True).first()
                if oldest is None:  # the ring was deleted under us (a flushed test database, a manual cleanup)
                    with self._ready_lock:
                        self._ready.discard(key)
                    self._ensure_ring(key)
                    continue
                return False, max(0.001, oldest + self.window - now)
            slot, used_at = free
            # Compare-and-set: only the process that still sees the old value wins the slot.
            won = self._slots(key).filter(slot=slot, used_at=used_at, used_at__lte=cutoff).update(used_at=now)
            if won == 1:
                return True, now
            # Another process got there first; look again.
        return False, 0.001

    @_retry_locked
    def _block_until(self, key: str, until: float) -> None:
        self._ensure_ring(key)
        # Push every slot so none frees before `until`.
        self._slots(key).filter(used_at__lt=until - self.window).update(used_at=until - self.window)

    @_retry_locked
    def _fill_free_slots(self, key: str, now: float) -> None:
        self._ensure_ring(key)
        self._slots(key).filter(used_at__lte=now - self.window).update(used_at=now)

    def _day_row(self, key: str, day: date) -> Any:
        from integrations.models import RateLimitDay

        row, _ = RateLimitDay.objects.get_or_create(key=key, day=day)
        return row

    @_retry_locked
    def _day_state(self, key: str, day: date) -> tuple[int, int | None]:
        from integrations.models import RateLimitDay

        row = RateLimitDay.objects.filter(key=key, day=day).values_list("count", "reported_remaining").first()
        return (row[0], row[1]) if row else (0, None)

    @_retry_locked
    def _count(self, key: str, day: date) -> None:
        from django.db.models import F

        from integrations.models import RateLimitDay

        if not RateLimitDay.objects.filter(key=key, day=day).update(count=F("count") + 1):
            self._day_row(key, day)
            RateLimitDay.objects.filter(key=key, day=day).update(count=F("count") + 1)

    @_retry_locked
    def _report_daily(self, key: str, day: date, remaining: int | None, limit: int | None) -> None:
        from integrations.models import RateLimitDay

        fields: dict[str, int] = {}
        if remaining is not None:
            fields["reported_remaining"] = remaining
        if limit is not None:
            fields["reported_limit"] = limit
        if not RateLimitDay.objects.filter(key=key, day=day).update(**fields):
            self._day_row(key, day)
            RateLimitDay.objects.filter(key=key, day=day).update(**fields)


# --- Redis ------------------------------------------------------------------------------------------------
# KEYS: log (sorted set of claims), block (a float: no claim before it)
# ARGV: now, window, limit, member, ttl_ms. Answers {1, "<claim time>"} or {0, "<seconds to wait>"}.
_CLAIM_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then
  return {0, string.format('%.17g', blocked - now)}
end
-- Numbers go back as '%.17g' strings: Lua's tostring keeps 14 digits, a tenth of a millisecond here.
-- Clients read their clocks before their scripts run: keep the log in order, or a late-running older
-- `now` would trim less than an earlier script did and slip an extra claim into a window.
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) > now then
  now = tonumber(newest[2])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {1, string.format('%.17g', now)}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, string.format('%.17g', tonumber(oldest[2]) + window - now)}
"""

# KEYS: log, block. ARGV: until, ttl_ms. Sets the block to max(block, until).
_BLOCK_LUA = """
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
end
return 1
"""

# KEYS: log. ARGV: now, window, limit, ttl_ms, member prefix. Fills the free capacity with claims at `now`.
_FILL_LUA = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1])
for i = 1, free do
  redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return free
"""


class RedisRateLimiter(BaseRateLimiter):
    """The same semantics over Redis: a sorted set of claim times per key, trimmed and claimed in Lua."""

    def __init__(self, redis_client: Any = None, *, url: str | None = None, prefix: str = "tagscope:rl",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if redis_client is None:
            import redis

            redis_client = redis.Redis.from_url(url or "redis://127.0.0.1:6379/0")
        self.redis = redis_client
        self.prefix = prefix
        self._claim = redis_client.register_script(_CLAIM_LUA)
        self._block = redis_client.register_script(_BLOCK_LUA)
        self._fill = redis_client.register_script(_FILL_LUA)

    def _keys(self, key: str) -> list[str]:
        return [f"{self.prefix}:{key}:log", f"{self.prefix}:{key}:block"]

    def _ttl_ms(self, seconds: float) -> int:
        return math.ceil(seconds * 1000) + 1000

    def _try_claim(self, key: str, now: float) -> tuple[bool, float]:
        claimed, value = self._claim(
            keys=self._keys(key),
            args=[repr(now), repr(self.window), self.limit, uuid.uuid4().hex, self._ttl_ms(self.window)],
        )
        if int(claimed) == 1:
            return True, float(value)
        return False, max(0.001, float(value))

    def _block_until(self, key: str, until: float) -> None:
        self._block(keys=self._keys(key), args=[repr(until), self._ttl_ms(until - self.clock())])

    def _fill_free_slots(self, key: str, now: float) -> None:
        self._fill(keys=self._keys(key)[:1],
                   args=[repr(now), repr(self.window), self.limit, self._ttl_ms(self.window), uuid.uuid4().hex])

    def _day_key(self, key: str, day: date) -> str:
        return f"{self.prefix}:{key}:day:{day.isoformat()}"

    def _day_state(self, key: str, day: date) -> tuple[int, int | None]:
        count, remaining = self.redis.hmget(self._day_key(key, day), ["count", "remaining"])
        return int(count or 0), (int(remaining) if remaining is not None else None)

    def _count(self, key: str, day: date) -> None:
        name = self._day_key(key, day)
        pipe = self.redis.pipeline()
        pipe.hincrby(name, "count", 1)
        pipe.expire(name, 2 * 86400)
        pipe.execute()

    def _report_daily(self, key: str, day: date, remaining: int | None, limit: int | None) -> None:
        mapping = {k: v for k, v in (("remaining", remaining), ("limit", limit)) if v is not None}
        name = self._day_key(key, day)
        pipe = self.redis.pipeline()
        pipe.hset(name, mapping=mapping)
        pipe.expire(name, 2 * 86400)
        pipe.execute()


# --- the shared instance ----------------------------------------------------------------------------------
_shared: BaseRateLimiter | None = None
_shared_lock = threading.Lock()


def limiter_settings() -> dict[str, Any]:
    from django.conf import settings

    return {
        "limit": int(getattr(settings, "HIGHLEVEL_BURST_LIMIT", DEFAULT_LIMIT)),
        "window": float(getattr(settings, "HIGHLEVEL_BURST_WINDOW_SECONDS", DEFAULT_WINDOW)),
        "daily_limit": int(getattr(settings, "HIGHLEVEL_DAILY_LIMIT", DEFAULT_DAILY_LIMIT)),
        "margin": float(getattr(settings, "HIGHLEVEL_BURST_MARGIN_SECONDS", DEFAULT_MARGIN)),
        "max_wait": float(getattr(settings, "HIGHLEVEL_RATE_LIMIT_MAX_WAIT_SECONDS", DEFAULT_MAX_WAIT)),
    }


def get_rate_limiter() -> BaseRateLimiter:
    """The process-wide limiter: Redis when settings.REDIS_URL is set, else the database."""
    global _shared
    with _shared_lock:
        if _shared is None:
            from django.conf import settings

            redis_url = getattr(settings, "REDIS_URL", "")
            if redis_url:
                _shared = RedisRateLimiter(url=redis_url, **limiter_settings())
            else:
                _shared = DatabaseRateLimiter(**limiter_settings())
        return _shared


def reset_rate_limiter() -> None:
    """Forget the shared instance (tests, or after settings change)."""
    global _shared
    with _shared_lock:
        _shared = None
