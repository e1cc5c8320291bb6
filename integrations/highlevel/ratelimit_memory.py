"""The in-process rate limiter: one process only (unit tests, scripts, benchmarks). The semantics are
BaseRateLimiter's (ratelimit.py); the shared backends are RedisRateLimiter (ratelimit_redis.py) and the
database's (integrations/clients/limiter_db.py)."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from datetime import date
from typing import Any

from integrations.highlevel.ratelimit import UPCOMING, BaseRateLimiter


class MemoryRateLimiter(BaseRateLimiter):
    """One process only (unit tests, scripts): a sorted list of claim times per key."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._log: dict[str, list[float]] = {}
        self._blocked: dict[str, float] = {}
        self._wanted: dict[str, float] = {}
        self._days: dict[tuple[str, date], list[Any]] = {}

    def _trimmed(self, key: str, now: float) -> list[float]:
        log = self._log.setdefault(key, [])
        del log[:bisect.bisect_right(log, now - self.window)]
        return log

    def _try_claim(self, key: str, now: float, *, yielding: bool = False) -> tuple[bool, float, Sequence[float]]:
        with self._lock:
            blocked = max(self._blocked.get(key, 0.0), self._wanted.get(key, 0.0) if yielding else 0.0)
            if blocked > now:
                return False, blocked - now, ()
            log = self._log.setdefault(key, [])
            # Threads read the clock before taking the lock: keep the log in order, every claim's time its
            # own (settle finds a claim by its time).
            if log and log[-1] >= now:
                now = log[-1] + 0.000001
            log = self._trimmed(key, now)
            if len(log) < self.limit:
                log.append(now)
                return True, now, ()
            return False, log[0] + self.window - now, [t + self.window - now for t in log[1:UPCOMING]]

    def _block_until(self, key: str, until: float) -> None:
        with self._lock:
            self._blocked[key] = max(self._blocked.get(key, 0.0), until)

    def _want(self, key: str, until: float) -> None:
        with self._lock:
            self._wanted[key] = max(self._wanted.get(key, 0.0), until) if until else 0.0

    def _fill_free_slots(self, key: str, now: float) -> None:
        with self._lock:
            log = self._trimmed(key, now)
            log.extend([max(now, log[-1]) if log else now] * (self.limit - len(log)))

    def _move_claim(self, key: str, claimed_at: float, used_at: float) -> None:
        with self._lock:
            log = self._log.get(key, [])
            at = bisect.bisect_left(log, claimed_at)
            if at < len(log) and log[at] == claimed_at:  # else it left the window already
                del log[at]
                bisect.insort(log, used_at)

    def _day(self, key: str, day: date) -> list[Any]:
        return self._days.setdefault((key, day), [0, None, None])

    def _day_state(self, key: str, day: date) -> tuple[int, int | None]:
        with self._lock:
            entry = self._day(key, day)
            return entry[0], entry[1]

    def _count(self, key: str, day: date, n: int) -> None:
        with self._lock:
            self._day(key, day)[0] += n

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
