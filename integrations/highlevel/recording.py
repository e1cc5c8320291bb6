"""Every attempt of every HighLevel request leaves a record: for monitoring latency, errors, 429s and quota.

A record holds the endpoint *template* and the resource id, never a URL with its query, a body or a
token. The default recorder writes ApiCall rows (one short autocommitted INSERT after the HTTP call
has finished), BufferedRecorder writes them in batches; a recorder failing never fails the request.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, fields
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


class NullRecorder:
    """Keeps nothing (the client logs every call anyway)."""

    def record(self, call: CallRecord) -> None:
        return None


class MemoryRecorder:
    """Keeps records in a list (tests, benchmarks)."""

    def __init__(self) -> None:
        self.calls: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        self.calls.append(call)


class DatabaseRecorder:
    """Writes one ApiCall row per attempt."""

    def record(self, call: CallRecord) -> None:
        self._write([call])

    @staticmethod
    def _write(calls: list[CallRecord]) -> None:
        from django.db import DatabaseError

        from integrations.bulk import rows_insert
        from integrations.models import ApiCall

        rows = []
        for call in calls:
            values = asdict(call)
            values["endpoint"] = values["endpoint"][:200]
            values["resource_id"] = (values["resource_id"] or "")[:64]
            values["error"] = values["error"][:64]
            values["trace_id"] = (values["trace_id"] or "")[:100]
            rows.append(tuple(values[name] for name in CALL_FIELDS))
        try:
            rows_insert(ApiCall, CALL_FIELDS, rows)
        except DatabaseError:
            logger.warning("could not record %d HighLevel call(s) to %s", len(calls),
                           ", ".join(sorted({c.endpoint for c in calls})), exc_info=True)


class BufferedRecorder(DatabaseRecorder):
    """Keeps the records until `flush()` writes them in one INSERT. A sync unit flushes it with its progress
    (about once a second) and when it ends, which spares a database write per request; a worker killed
    mid-run loses at most its last second of records (monitoring only: the mirror does not depend on them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        with self._lock:
            self._pending.append(call)

    def flush(self) -> int:
        with self._lock:
            calls, self._pending = self._pending, []
        if calls:
            self._write(calls)
        return len(calls)
