"""Every attempt of every HighLevel request leaves a record: for monitoring latency, errors, 429s and quota.

A record holds the endpoint *template* and the resource id, never a URL with its query, a body or a
token. The client is handed a recorder: the database ones (ApiCall rows, one at a time or in batches) live
in integrations/clients/recorders.py; a recorder failing never fails the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Protocol

logger = logging.getLogger("integrations.highlevel")


@dataclass(frozen=True)
class CallRecord:
    at: datetime
    method: str
    endpoint: str
    resource_id: str
    status: int | None
    latency_ms: int
    attempt: int
    error: str = ""
    trace_id: str = ""
    rate_limit_remaining: int | None = None
    daily_remaining: int | None = None
    daily_limit: int | None = None
    connection_id: int | None = None
    run_id: int | None = None


CALL_FIELDS = tuple(f.name for f in fields(CallRecord))


class Recorder(Protocol):
    def record(self, call: CallRecord) -> None: ...


def log_call(call: CallRecord) -> None:
    """One line per attempt (the client calls it before any recorder): DEBUG when it went well, INFO otherwise."""
    level = logging.DEBUG if call.status is not None and call.status < 400 and not call.error else logging.INFO
    logger.log(
        level,
        "highlevel %s %s resource=%s status=%s %dms attempt=%d%s traceId=%s",
        call.method,
        call.endpoint,
        call.resource_id or "-",
        call.status if call.status is not None else "-",
        call.latency_ms,
        call.attempt,
        f" error={call.error}" if call.error else "",
        call.trace_id or "-",
    )


class MemoryRecorder:
    """Keeps records in a list (tests, benchmarks)."""

    def __init__(self) -> None:
        self.calls: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        self.calls.append(call)
