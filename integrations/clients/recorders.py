"""The recorders the client is handed in production: every attempt of every HighLevel request becomes an
ApiCall row (monitoring: latency, errors, 429s, quota). DatabaseRecorder writes one short autocommitted
INSERT after the HTTP call has finished; BufferedRecorder keeps them for one INSERT per flush (a sync unit).
"""

from __future__ import annotations

import logging
import threading

from django.db import DatabaseError

from integrations.bulk import Write, rows_insert_prepared
from integrations.highlevel.recording import CALL_FIELDS, CallRecord
from integrations.models import ApiCall

logger = logging.getLogger("integrations.highlevel")


class DatabaseRecorder:
    """Writes one ApiCall row per attempt."""

    def record(self, call: CallRecord) -> None:
        self._write([call])

    @staticmethod
    def _write(calls: list[CallRecord]) -> None:
        DatabaseRecorder._prepared(calls)()

    @staticmethod
    def _prepared(calls: list[CallRecord]) -> Write:
        """The INSERT of the calls, its values prepared now (before a transaction that runs it). Running it
        answers how many calls it took; a database failing is logged, not raised (monitoring only)."""
        rows = []
        for call in calls:
            # Read field by field: `asdict` deep-copies every value, a measurable share of a flush.
            values = {name: getattr(call, name) for name in CALL_FIELDS}
            values["endpoint"] = values["endpoint"][:200]
            values["resource_id"] = (values["resource_id"] or "")[:64]
            values["error"] = values["error"][:64]
            values["trace_id"] = (values["trace_id"] or "")[:100]
            rows.append(tuple(values[name] for name in CALL_FIELDS))
        insert = rows_insert_prepared(ApiCall, CALL_FIELDS, rows)

        def write() -> int:
            try:
                insert()
            except DatabaseError:
                logger.warning("could not record %d HighLevel call(s) to %s", len(calls),
                               ", ".join(sorted({c.endpoint for c in calls})), exc_info=True)
            return len(calls)

        return write


class BufferedRecorder(DatabaseRecorder):
    """Keeps the records until `flush()` writes them in one INSERT. A sync unit flushes it with its progress
    (every FLUSH_EVERY_SECONDS, 2 s) and when it ends, which spares a database write per request; a worker
    killed mid-run loses at most its last 2 seconds of records (monitoring only: the mirror does not depend on them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        with self._lock:
            self._pending.append(call)

    def flush(self) -> int:
        """Write what was recorded; answers how many calls."""
        return self.flush_prepared()()

    def flush_prepared(self) -> Write:
        """Take what was recorded and prepare its INSERT; the answer writes it (in the caller's transaction)."""
        with self._lock:
            calls, self._pending = self._pending, []
        return self._prepared(calls) if calls else lambda: 0
