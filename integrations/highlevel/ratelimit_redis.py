"""The rate limiter over Redis: a sorted set of claim times per bucket, trimmed and claimed by Lua scripts,
and a hash per bucket and day for the daily quota. The semantics are BaseRateLimiter's (ratelimit.py);
`get_rate_limiter()` (integrations/clients/limiters.py) picks this backend when REDIS_URL is set.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from integrations.highlevel.ratelimit import UPCOMING, BaseRateLimiter

# KEYS: log (sorted set of claims), block (a float: no claim before it), want (a float: no yielding claim
# before it). ARGV: now, window, limit, member, ttl_ms, "1" for a yielding claim, how many upcoming slots.
# Answers {1, "<claim time>"} or {0, "<seconds to wait>", "<seconds until the next slot frees>", ...}.
_CLAIM_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[6] == '1' then
  blocked = math.max(blocked, tonumber(redis.call('GET', KEYS[3]) or '0'))
end
if blocked > now then
  return {0, string.format('%.17g', blocked - now)}
end
-- Numbers go back as '%.17g' strings: Lua's tostring keeps 14 digits, a tenth of a millisecond here.
-- Clients read their clocks before their scripts run: keep the log in order, or a late-running older
-- `now` would trim less than an earlier script did and slip an extra claim into a window. And a claim's
-- time is its name when it is settled (moved): never the same as another's, so just after the newest.
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) >= now then
  now = tonumber(newest[2]) + 0.000001
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.17g', now - window))
if redis.call('ZCARD', KEYS[1]) < limit then
  -- The score as a '%.17g' string too (Lua may format a number handed to redis.call with 14 digits): the
  -- claim must be found again at exactly the time this script answers.
  redis.call('ZADD', KEYS[1], string.format('%.17g', now), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {1, string.format('%.17g', now)}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[7]) - 1, 'WITHSCORES')
local waits = {0}
for i = 2, #oldest, 2 do
  waits[#waits + 1] = string.format('%.17g', tonumber(oldest[i]) + window - now)
end
return waits
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
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.17g', now - tonumber(ARGV[2])))
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1])
for i = 1, free do
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return free
"""


# KEYS: log. ARGV: claimed_at, used_at, ttl_ms. The claim whose score is `claimed_at` (if still there) moves to
# `used_at`, and the log lives at least `ttl_ms` more: it must not expire (and forget the claim) before the
# moved claim leaves the window, as it could when no claim followed a slow exchange.
_MOVE_LUA = """
local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
for _, member in ipairs(members) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[2], member)
end
if #members > 0 and redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return #members
"""

# Connections per process: every lane of every unit a worker runs side by side asks the limiter (a 2-worker
# cluster runs 32 units of up to 8 lanes each). redis-py's default pool raises MaxConnectionsError past 100;
# a blocking pool makes a thread wait for a connection instead (each script takes well under a millisecond).
POOL_CONNECTIONS = 32
POOL_WAIT_SECONDS = 30.0
PREFIX = "tagscope:rl"  # every key of the limiter starts with it


class RedisRateLimiter(BaseRateLimiter):
    """The same semantics over Redis: a sorted set of claim times per key, trimmed and claimed in Lua."""

    def __init__(self, redis_client: Any = None, *, url: str | None = None, prefix: str = PREFIX,
                 max_connections: int = POOL_CONNECTIONS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if redis_client is None:
            import redis

            pool = redis.BlockingConnectionPool.from_url(url or "redis://127.0.0.1:6379/0",
                                                         max_connections=max_connections, timeout=POOL_WAIT_SECONDS)
            redis_client = redis.Redis(connection_pool=pool)
        self.redis = redis_client
        self.prefix = prefix
        self._claim = redis_client.register_script(_CLAIM_LUA)
        self._block = redis_client.register_script(_BLOCK_LUA)
        self._fill = redis_client.register_script(_FILL_LUA)
        self._move = redis_client.register_script(_MOVE_LUA)

    def _keys(self, key: str) -> list[str]:
        return [f"{self.prefix}:{key}:log", f"{self.prefix}:{key}:block", f"{self.prefix}:{key}:want"]

    def _ttl_ms(self, seconds: float) -> int:
        return math.ceil(seconds * 1000) + 1000

    def _try_claim(self, key: str, now: float, *, yielding: bool = False) -> tuple[bool, float, Sequence[float]]:
        claimed, value, *later = self._claim(
            keys=self._keys(key),
            args=[repr(now), repr(self.window), self.limit, uuid.uuid4().hex, self._ttl_ms(self.window),
                  "1" if yielding else "0", UPCOMING],
        )
        if int(claimed) == 1:
            return True, float(value), ()
        return False, max(0.001, float(value)), [float(wait) for wait in later]

    def _block_until(self, key: str, until: float) -> None:
        self._block(keys=self._keys(key)[:2], args=[repr(until), self._ttl_ms(until - self.clock())])

    def _want(self, key: str, until: float) -> None:
        log, _, want = self._keys(key)
        if not until:
            self.redis.delete(want)
            return
        self._block(keys=[log, want], args=[repr(until), self._ttl_ms(until - self.clock())])

    def _fill_free_slots(self, key: str, now: float) -> None:
        self._fill(keys=self._keys(key)[:1],
                   args=[repr(now), repr(self.window), self.limit, self._ttl_ms(self.window), uuid.uuid4().hex])

    def _move_claim(self, key: str, claimed_at: float, used_at: float) -> None:
        ttl = self._ttl_ms(used_at + self.window - self.clock())
        self._move(keys=self._keys(key)[:1], args=[repr(claimed_at), repr(used_at), ttl])

    def _day_key(self, key: str, day: date) -> str:
        return f"{self.prefix}:{key}:day:{day.isoformat()}"

    def _day_state(self, key: str, day: date) -> tuple[int, int | None]:
        count, remaining = self.redis.hmget(self._day_key(key, day), ["count", "remaining"])
        return int(count or 0), (int(remaining) if remaining is not None else None)

    def _count(self, key: str, day: date, n: int) -> None:
        name = self._day_key(key, day)
        pipe = self.redis.pipeline()
        pipe.hincrby(name, "count", n)
        pipe.expire(name, 2 * 86400)
        pipe.execute()

    def _report_daily(self, key: str, day: date, remaining: int | None, limit: int | None) -> None:
        mapping = {k: v for k, v in (("remaining", remaining), ("limit", limit)) if v is not None}
        name = self._day_key(key, day)
        pipe = self.redis.pipeline()
        pipe.hset(name, mapping=mapping)
        pipe.expire(name, 2 * 86400)
        pipe.execute()
