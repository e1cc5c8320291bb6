"""Tagscope's stored state: credentials, the mirror of HighLevel data, runs, calls and deliveries.

One module per concern; everything is re-exported here so `from integrations.models import X` works.
"""

from integrations.models.apicalls import ApiCall
from integrations.models.health import WorkerHeartbeat
from integrations.models.ratelimit import RateLimitDay, RateLimitSlot

__all__ = ["ApiCall", "RateLimitDay", "RateLimitSlot", "WorkerHeartbeat"]
