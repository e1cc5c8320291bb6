"""Connections of threads that wait, and of forked children: a waiting thread gives its pooled connection
back (not inside a transaction), and a forked child opens its own instead of talking over its parent's."""

from __future__ import annotations

import os

import pytest
from django.db import connection, transaction

from integrations.db import connections_give_back

pytestmark = pytest.mark.django_db(transaction=True)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def needs_a_pool() -> None:
    if connection.vendor != "postgresql" or not getattr(connection, "pool", None):
        pytest.skip("needs PostgreSQL with Django's connection pool (DATABASE_URL=postgres://...)")


def test_a_waiting_thread_gives_its_pooled_connection_back_except_inside_a_transaction():
    needs_a_pool()
    backend_pid()
    with transaction.atomic():
        connections_give_back()
        assert connection.connection is not None  # a transaction keeps its connection
    connections_give_back()
    assert connection.connection is None
    backend_pid()  # and takes one from the pool again when it next needs one


def test_sqlite_connections_are_kept():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite case")
    connection.ensure_connection()
    connections_give_back(pooled_only=False)
    assert connection.connection is not None


def test_a_forked_child_opens_its_own_connection_and_the_parents_survive():
    needs_a_pool()
    parent = backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        forked_at = cursor.fetchone()[0]
    connection.close()  # back to the pool, still open: as django-q2 leaves it before it forks its workers
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: is its session one it opened itself? Then leave without pytest's teardown.
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
                os.write(write, b"own" if cursor.fetchone()[0] > forked_at else b"inherited")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    answer = os.read(read, 64)
    os.close(read)
    assert answer == b"own"
    with connection.cursor() as cursor:  # the parent's pooled session is intact
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [parent])
        assert cursor.fetchone()[0] == 1


def test_a_lanes_read_does_not_queue_behind_a_lanes_write_that_waits_for_sqlites_write_lock():
    # A lane's write (the limiter's daily count) may wait in SQLite's busy handler while the mirror holds the
    # write lock; the other lanes' reads (the token re-read) go through a shared connection of their own.
    import sqlite3
    import threading

    from integrations.db import lane_thread, plain_statement, shared_sqlite_close

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite case")
    shared_sqlite_close()
    plain_statement('INSERT INTO "integrations_ratelimitday" ("key", "day", "count") VALUES (%s, %s, 0)',
                    ["k", "2025-03-01"])
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the mirror's transaction, holding the write lock
    done: dict[str, object] = {}

    def in_lane(name: str, sql: str, params: list) -> None:
        with lane_thread():
            done[name] = plain_statement(sql, params)

    write = threading.Thread(target=in_lane, args=(
        "write", 'UPDATE "integrations_ratelimitday" SET "count" = "count" + 1 WHERE "key" = %s', ["k"]))
    read = threading.Thread(target=in_lane, args=(
        "read", 'SELECT "count" FROM "integrations_ratelimitday" WHERE "key" = %s', ["k"]))
    try:
        write.start()
        while not done and write.is_alive() and not _waiting_for_lock(write):
            write.join(timeout=0.01)
        read.start()
        read.join(timeout=10)
        assert done.get("read") == (-1, (0,)) and write.is_alive()  # read at once; the write still waits
    finally:
        holder.execute("COMMIT")
        holder.close()
        write.join(timeout=30)
        shared_sqlite_close()
    assert done["write"] == (1, None)


def _waiting_for_lock(thread) -> bool:
    """The thread is inside SQLite (its write waits for the lock): its frame is plain_statement's execute."""
    import sys

    frame = sys._current_frames().get(thread.ident)
    return frame is not None and frame.f_code.co_name == "plain_statement"
