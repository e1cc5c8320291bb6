"""Database connections of threads that mostly wait on the network (and the throttled `last_used_at` write).

A sync worker runs dozens of units on threads (and each unit a few lanes); Django gives every thread a
connection of its own and keeps it. On PostgreSQL that would make threads, not processes, count against
`max_connections`. So a thread about to wait on HighLevel gives its connection back to the process's pool
(settings.py: DATABASES OPTIONS "pool") and takes one again when it next touches the database; so does a
thread about to sleep or to wait for other threads. SQLite's connections are a file handle each: they are
kept. The exception is the OAuth token exchange: its answer (a rotated refresh token) must be saved, so the
thread keeps its connection across that call rather than risk waiting for one with the token in hand.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, models
from django.db import utils as db_errors

# What a forked child inherited from its parent: pools and connections whose sockets the parent still uses.
# The child keeps them referenced and never closes them (closing, or freeing, would end the parent's
# sessions with a Terminate message) and opens its own. Django 5.2 does not do this yet (ticket #31637).
_INHERITED: list[Any] = []


def connections_give_back(*, pooled_only: bool = True) -> None:
    """Return this thread's server-database connections to their pool, unless one is inside a transaction.
    `pooled_only=False` closes unpooled ones too (a lane's, so lanes never pile up connections)."""
    for connection in connections.all(initialized_only=True):
        if connection.vendor == "sqlite" or connection.connection is None or connection.in_atomic_block:
            continue
        if pooled_only and not getattr(connection, "pool", None):
            continue
        connection.close()


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
