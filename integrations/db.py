"""Database connections of threads that mostly wait on the network.

A sync worker runs dozens of units on threads (and each unit a few lanes); Django gives every thread a
connection of its own and keeps it. On PostgreSQL that would make threads, not processes, count against
`max_connections`. So a thread about to wait on HighLevel gives its connection back to the process's pool
(settings.py: DATABASES OPTIONS "pool") and takes one again when it next touches the database; so does a
thread about to sleep or to wait for other threads. SQLite's connections are a file handle each: they are
kept. The exception is the OAuth token exchange: its answer (a rotated refresh token) must be saved, so the
thread keeps its connection across that call rather than risk waiting for one with the token in hand.
"""

from __future__ import annotations

import time

from django.db import connections


def connections_give_back(*, pooled_only: bool = True) -> None:
    """Return this thread's server-database connections to their pool, unless one is inside a transaction.
    `pooled_only=False` closes unpooled ones too (a lane's, so lanes never pile up connections)."""
    for connection in connections.all(initialized_only=True):
        if connection.vendor == "sqlite" or connection.connection is None or connection.in_atomic_block:
            continue
        if pooled_only and not getattr(connection, "pool", None):
            continue
        connection.close()


def idle(seconds: float) -> None:
    """Sleep without holding a pooled connection: the default `sleep` of the HighLevel client, the rate
    limiter and the token refresh's wait, so a thread waiting for a slot or a retry holds none."""
    connections_give_back()
    time.sleep(seconds)
