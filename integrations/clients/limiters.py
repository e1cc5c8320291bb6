"""The process-wide rate limiter every HighLevel client of this process is handed: Redis when REDIS_URL is
set, files beside a SQLite database (limiter_file.py), the database otherwise, with HighLevel's published
limits from settings. Its sleep gives back the thread's pooled database connection while it waits
(integrations/db.py)."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.db import connection

from integrations.db import idle
from integrations.highlevel.ratelimit import BaseRateLimiter

_shared: BaseRateLimiter | None = None
_shared_lock = threading.Lock()


def limiter_settings() -> dict[str, Any]:
    return {
        "limit": settings.HIGHLEVEL_BURST_LIMIT,
        "window": settings.HIGHLEVEL_BURST_WINDOW_SECONDS,
        "daily_limit": settings.HIGHLEVEL_DAILY_LIMIT,
        "margin": settings.HIGHLEVEL_BURST_MARGIN_SECONDS,
        "max_wait": settings.HIGHLEVEL_RATE_LIMIT_MAX_WAIT_SECONDS,
        "sleep": idle,
    }


def get_rate_limiter() -> BaseRateLimiter:
    """The process-wide limiter: Redis when settings.REDIS_URL is set; on SQLite, rings in files beside it
    (settings.RATE_LIMIT_DIRECTORY); else the database."""
    global _shared
    with _shared_lock:
        if _shared is None:
            if settings.REDIS_URL:
                from integrations.highlevel.ratelimit_redis import RedisRateLimiter

                _shared = RedisRateLimiter(url=settings.REDIS_URL, **limiter_settings())
            elif settings.RATE_LIMIT_DIRECTORY and connection.vendor == "sqlite":
                from integrations.clients.limiter_file import FileRateLimiter

                _shared = FileRateLimiter(directory=settings.RATE_LIMIT_DIRECTORY, **limiter_settings())
            else:
                from integrations.clients.limiter_db import DatabaseRateLimiter

                _shared = DatabaseRateLimiter(**limiter_settings())
        return _shared


def reset_rate_limiter() -> None:
    """Forget the shared instance (tests, or after settings change)."""
    global _shared
    with _shared_lock:
        _shared = None
