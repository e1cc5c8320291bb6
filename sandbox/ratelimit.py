"""HighLevel's rate limits: a strict sliding burst window (real monotonic time) and a daily quota (per
sandbox-clock day), per app and resource. Also keeps, per resource, the busiest window seen, so tests and
benchmarks can tell whether a client stayed under the limit."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass


@dataclass
class Decision:
    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    def __init__(self, burst_limit: int, window_ms: int, daily_limit: int, clock=time.monotonic):
        self.burst_limit = burst_limit
        self.window = window_ms / 1000
        self.window_ms = window_ms
        self.daily_limit = daily_limit
        self._clock = clock
        self._accepted: dict[tuple[str, str], deque[float]] = {}
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self._daily: dict[tuple[str, str, str], int] = {}
        self.resources: dict[str, dict[str, int]] = {}

    def hit(self, app_id: str, resource: str, day: str) -> Decision:
        """Count one request; the caller holds the sandbox lock."""
        now = self._clock()
        key = (app_id, resource)
        accepted = self._trim(self._accepted.setdefault(key, deque()), now)
        seen = self._trim(self._seen.setdefault(key, deque()), now)
        seen.append(now)
        record = self.resources.setdefault(resource, {"count": 0, "max_burst": 0, "rate_limited": 0})
        record["count"] += 1
        record["max_burst"] = max(record["max_burst"], len(seen))
        used_today = self._daily.get((app_id, resource, day), 0)
        if len(accepted) >= self.burst_limit or used_today >= self.daily_limit:
            record["rate_limited"] += 1
            over_daily = used_today >= self.daily_limit
            retry = 3600 if over_daily else max(1, math.ceil(accepted[0] + self.window - now))
            headers = self._headers(self.burst_limit - len(accepted), self.daily_limit - used_today)
            headers["Retry-After"] = str(retry)
            return Decision(False, headers)
        accepted.append(now)
        self._daily[(app_id, resource, day)] = used_today + 1
        return Decision(True, self._headers(self.burst_limit - len(accepted), self.daily_limit - used_today - 1))

    def storm_headers(self) -> dict[str, str]:
        headers = self._headers(0, self.daily_limit)
        headers["Retry-After"] = str(max(1, math.ceil(self.window)))
        return headers

    def _trim(self, window: deque[float], now: float) -> deque[float]:
        while window and window[0] <= now - self.window:
            window.popleft()
        return window

    def _headers(self, remaining: int, daily_remaining: int) -> dict[str, str]:
        return {
            "X-RateLimit-Limit-Daily": str(self.daily_limit),
            "X-RateLimit-Daily-Remaining": str(max(0, daily_remaining)),
            "X-RateLimit-Interval-Milliseconds": str(self.window_ms),
            "X-RateLimit-Max": str(self.burst_limit),
            "X-RateLimit-Remaining": str(max(0, remaining)),
        }
