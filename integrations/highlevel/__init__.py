"""HighLevel API client: one client, one error tree, one retry rule, one shared rate limiter.

    from integrations.highlevel import HighLevelClient, errors

Nothing here touches Django settings at import time; the client reads them when it is built.
"""

from integrations.highlevel import errors
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.ratelimit import get_rate_limiter

__all__ = ["HighLevelClient", "errors", "get_rate_limiter"]
