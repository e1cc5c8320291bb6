"""Builds HighLevel clients for the product: the config from settings, the process-wide rate limiter
(limiters.py), a database recorder (recorders.py) and the connection hook that gives back the thread's
pooled database connection while HighLevel answers (integrations/db.py). integrations/highlevel/ itself
knows none of these; see docs/architecture.md, "The HighLevel client"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

from integrations.clients.limiters import get_rate_limiter
from integrations.clients.recorders import DatabaseRecorder
from integrations.db import connections_give_back, idle
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.config import ClientConfig
from integrations.highlevel.recording import Recorder


def highlevel_config() -> ClientConfig:
    return ClientConfig(
        base_url=settings.HIGHLEVEL_API_BASE_URL,
        api_version=settings.HIGHLEVEL_API_VERSION,
        social_api_version=settings.HIGHLEVEL_SOCIAL_API_VERSION,
        authorize_url=settings.HIGHLEVEL_AUTHORIZE_URL,
        timeout=settings.HIGHLEVEL_TIMEOUT,
        max_retries=settings.HIGHLEVEL_MAX_RETRIES,
        client_id=settings.HIGHLEVEL_CLIENT_ID,
        client_secret=settings.HIGHLEVEL_CLIENT_SECRET,
    )


def highlevel_client(
    token: Callable[[], str] | None = None,
    *,
    on_unauthorized: Callable[[], Any] | None = None,
    recorder: Recorder | None = None,
    connection_id: int | None = None,
    run_id: int | None = None,
    social_version: str | None = None,
) -> HighLevelClient:
    """A client for one credential (`token`; none for the OAuth grants), wired to this process: the shared
    limiter, `recorder` or one ApiCall row per attempt, and no pooled connection held across an exchange.
    `social_version` overrides HIGHLEVEL_SOCIAL_API_VERSION (a connection moved to 2021-07-28)."""
    config = highlevel_config()
    if social_version:
        config = config.replace(social_api_version=social_version)
    return HighLevelClient(
        config, token,
        limiter=get_rate_limiter(),
        recorder=recorder if recorder is not None else DatabaseRecorder(),
        connection_hook=connections_give_back,
        on_unauthorized=on_unauthorized,
        sleep=idle,
        connection_id=connection_id,
        run_id=run_id,
    )
