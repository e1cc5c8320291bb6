"""Database connections of threads that mostly wait on the network (and the throttled `last_used_at` write).

A sync worker runs dozens of units on threads (and each unit a few lanes); Django gives every thread a
connection of its own and keeps it. On PostgreSQL that would make threads, not processes, count against
`max_connections`. So a thread about to wait on HighLevel gives its connection back to the process's pool
(settings.py: DATABASES OPTIONS "pool") and takes one again when it next touches the database; so does a
thread about to sleep or to wait for other threads. SQLite's connections are a file handle each: they are
kept. The exception is the OAuth token exchange: its answer (a rotated refresh token) must be saved, so the
thread keeps its connection across that call rather than risk waiting for one with the token in hand.

Lanes (integrations/sync/lanes.py) are the exception on SQLite: a worker runs hundreds of them, and a
connection each (its parsed schema, statement and page caches: ~0.4 MB) made most of a worker's memory.
What a lane reads and writes is single autocommit statements (the token re-read, the rate limiter's daily
counts, and its slots where they are in the database), so in a lane `plain_statement` runs them on two
connections per process, each under a lock: one for reads and one for writes (SQLite has one writer at a time
anyway; a write may wait for the write lock in SQLite's busy handler, and reads must not queue behind it).
A lane closes any connection of its own after each item (`lane_thread`).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db import utils as db_errors

# What a forked child inherited from its parent: pools and connections whose sockets the parent still uses.
# The child keeps them referenced and never closes them (closing, or freeing, would end the parent's
# sessions with a Terminate message) and opens its own. Django 5.2 does not do this yet (ticket #31637).
_INHERITED: list[Any] = []


def connections_give_back(*, pooled_only: bool = True) -> None:
    """Return this thread's server-database connections to their pool, unless one is inside a transaction.
    `pooled_only=False` closes unpooled ones too, and in a lane SQLite's (so lanes never pile up connections)."""
    in_lane = getattr(_thread, "lane", False)
    for connection in connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        if connection.vendor == "sqlite" and not (in_lane and not pooled_only):
            continue
        if pooled_only and not getattr(connection, "pool", None):
            continue
        connection.close()


# --- statements in plain SQL, and lanes' one SQLite connection ---------------------------------------------
_thread = threading.local()  # .lane: this thread is a lane (lane_thread)


class _SharedSqlite:
    """One of this process's shared lane connections (a forked worker opens its own) and the lock it is used
    under, opened as Django opens one (same file, pragmas, functions), in autocommit."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.raw: Any = None

    def get(self, connection: Any) -> Any:
        """The sqlite3 connection; called under `lock`."""
        if self.pid != os.getpid() or self.raw is None:
            raw = connection.get_new_connection(connection.get_connection_params())
            raw.isolation_level = None  # autocommit: each statement its own transaction, as Django's autocommit
            self.pid, self.raw = os.getpid(), raw
        return self.raw

    def close(self) -> None:
        with self.lock:
            if self.pid == os.getpid() and self.raw is not None:
                self.raw.close()
            self.pid, self.raw = None, None


_SHARED_READS, _SHARED_WRITES = _SharedSqlite(), _SharedSqlite()


@contextmanager
def lane_thread() -> Iterator[None]:
    """Mark the current thread as a lane for its life (lanes.py): see the module's docstring."""
    _thread.lane = True
    try:
        yield
    finally:
        _thread.lane = False


@functools.cache
def _qmark(sql: str) -> str:
    """A statement in sqlite3's own placeholders (callers' statements hold no literal %)."""
    return sql.replace("%s", "?")


def plain_statement(sql: str, params: Sequence[Any], *, rows: bool = False) -> tuple[int, Any]:
    """Run one statement in autocommit: (rows it changed, the first row it answered, or with `rows` every
    row). On SQLite straight on the sqlite3 connection (Django's cursor wrappers and its %s -> ? regular
    expression cost more CPU than a limiter's UPDATE), in a lane on the process's shared one. Errors come as
    Django's; while queries are logged (DEBUG, a test capturing them) it goes through Django's cursor."""
    connection = connections[DEFAULT_DB_ALIAS]  # this thread's, once (django.db.connection looks it up per use)
    if connection.vendor == "sqlite" and not connection.queries_logged:
        with connection.wrap_database_errors:
            if getattr(_thread, "lane", False) and connection.connection is None:
                shared = _SHARED_READS if sql.startswith("SELECT") else _SHARED_WRITES
                with shared.lock:
                    return _answer(shared.get(connection).execute(_qmark(sql), params), rows)
            if connection.connection is None:
                connection.ensure_connection()
            return _answer(connection.connection.execute(_qmark(sql), params), rows)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _answer(cursor, rows)


def _answer(cursor: Any, rows: bool) -> tuple[int, Any]:
    if cursor.description is None:  # no rows to answer (an UPDATE)
        return cursor.rowcount, None
    return cursor.rowcount, (cursor.fetchall() if rows else cursor.fetchone())


def shared_sqlite_close() -> None:
    """Close this process's shared connections (tests that replace the database file; they reopen on use)."""
    _SHARED_READS.close()
    _SHARED_WRITES.close()


def database_unavailable(exc: BaseException) -> bool:
    """The database could not serve this thread for a while: no pooled connection within the pool's timeout
    (a busy worker's threads held them all), SQLite's write lock held past the busy timeout, a server
    connection lost. Worth another attempt later, as a HighLevel 503 is; not a bug to fail on."""
    return isinstance(exc, (db_errors.OperationalError, db_errors.InterfaceError))


# `last_used_at` columns (connections, API tokens) are written at most this often: a write per use would
# queue every reader behind SQLite's one writer, for a figure nobody needs to the second.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def last_used_touch(row: models.Model, *, now: datetime) -> None:
    """Record that `row` (a model with `last_used_at`) was used at `now`, unless it was within the minute."""
    if row.last_used_at is None or row.last_used_at < now - LAST_USED_GRANULARITY:
        type(row).objects.filter(pk=row.pk).update(last_used_at=now)


def db_datetime(value: Any) -> datetime | None:
    """A DateTimeField's value as plain SQL reads it (PostgreSQL: aware; SQLite: the naive UTC Django stored,
    USE_TZ, as a datetime or its text) as the aware datetime the ORM would have answered."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def idle(seconds: float) -> None:
    """Sleep without holding a pooled connection: the default `sleep` of the HighLevel client, the rate
    limiter and the token refresh's wait, so a thread waiting for a slot or a retry holds none."""
    connections_give_back()
    time.sleep(seconds)


def _forget_inherited_connections() -> None:
    for connection in connections.all(initialized_only=True):
        if connection.vendor != "sqlite" and connection.connection is not None:
            _INHERITED.append(connection.connection)
            connection.connection = None
    postgresql = sys.modules.get("django.db.backends.postgresql.base")
    if postgresql is not None:
        _INHERITED.extend(postgresql.DatabaseWrapper._connection_pools.values())
        postgresql.DatabaseWrapper._connection_pools.clear()


def forked_children_open_their_own_connections() -> None:
    """django-q2 forks its workers from a process that has used the database: with a pool, the children
    would otherwise take the parent's pooled connections and talk over its sockets (seen as "can't change
    'autocommit' now: connection in transaction status INTRANS" in the pusher)."""
    os.register_at_fork(after_in_child=_forget_inherited_connections)
