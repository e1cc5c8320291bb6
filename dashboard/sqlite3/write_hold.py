"""How long this process's SQLite transactions hold the database's one write lock: a diagnostic for
bench/agency.py, off unless settings.SQLITE_WRITE_HOLD_DIR names a directory (then base.py times every
transaction).

Transactions begin IMMEDIATE (settings.py), so each holds the lock from its BEGIN to its COMMIT or ROLLBACK,
and the cluster's processes take turns at it. Their holds summed over the processes is a floor of the
SQLite sync's wall time that neither the rate limit nor the cores show; approximately, since a hold is timed
from BEGIN's return to COMMIT's and so includes the holder getting its interpreter lock back after the
COMMIT (the sum once read 101 % of the wall). Each process writes its totals to
`<dir>/<pid>.json` at most every WRITE_EVERY_SECONDS (and so the last half second's may be missing);
`totals_read` sums them.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings

WRITE_EVERY_SECONDS = 0.5
FIELDS = ("transactions", "held_seconds", "held_cpu_seconds", "waited_seconds")

_lock = threading.Lock()
_totals = dict.fromkeys(FIELDS, 0.0)
_written_at = [0.0]


def _add(waited: float, held: float, held_cpu: float) -> None:
    with _lock:
        _totals["transactions"] += 1
        _totals["held_seconds"] += held
        _totals["held_cpu_seconds"] += held_cpu
        _totals["waited_seconds"] += waited
        now = time.monotonic()
        if now - _written_at[0] < WRITE_EVERY_SECONDS:
            return
        _written_at[0] = now
        # Under the lock: two threads writing the one temporary file would hand `replace` a half-written one.
        path = Path(settings.SQLITE_WRITE_HOLD_DIR) / f"{os.getpid()}.json"
        path.with_suffix(".tmp").write_text(json.dumps(_totals))
        path.with_suffix(".tmp").replace(path)  # a reader never sees half a file


def totals_read(directory: str) -> dict[str, float]:
    """Every process's totals summed (FIELDS)."""
    summed = dict.fromkeys(FIELDS, 0.0)
    for path in Path(directory).glob("*.json"):
        for name, value in json.loads(path.read_text()).items():
            summed[name] += value
    return summed


class TimedTransactions:
    """A mixin for the SQLite DatabaseWrapper: the wait for each transaction's BEGIN, and its hold from there
    to its end (wall and this thread's CPU)."""

    _hold_started: tuple[float, float, float] | None = None

    def _start_transaction_under_autocommit(self) -> None:
        asked = time.perf_counter()
        super()._start_transaction_under_autocommit()  # type: ignore[misc]
        self._hold_started = (asked, time.perf_counter(), time.thread_time())

    def _hold_end(self) -> None:
        if self._hold_started is not None:
            asked, begun, cpu = self._hold_started
            self._hold_started = None
            _add(begun - asked, time.perf_counter() - begun, time.thread_time() - cpu)

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._hold_end()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._hold_end()
