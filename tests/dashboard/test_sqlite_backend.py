"""The SQLite engine (dashboard/sqlite3): Django's, its placeholders converted by a plain replace where that
gives Django's own text."""

from __future__ import annotations

import itertools
import sqlite3

import pytest
from django.db import connection, connections
from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangoCursor

from dashboard.sqlite3.base import SQLiteCursorWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite case")


def test_every_short_statement_converts_as_django_converts_it():
    raw = sqlite3.connect(":memory:")
    ours, theirs = raw.cursor(factory=SQLiteCursorWrapper), raw.cursor(factory=DjangoCursor)
    for n in range(1, 6):
        for parts in itertools.product(["%", "s", "x", "%s", "%%", "'"], repeat=n):
            query = "".join(parts)
            assert ours.convert_query(query) == theirs.convert_query(query), query
    named = "SELECT %(a)s, %(b)s"
    assert ours.convert_query(named, param_names=["a", "b"]) == theirs.convert_query(named, param_names=["a", "b"])


def test_the_project_runs_on_it(db):
    assert type(connections["default"]).__module__ == "dashboard.sqlite3.base"
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, SQLiteCursorWrapper)
        cursor.execute("SELECT %s, '100%%', %s LIKE 'a%%'", [1, "abc"])
        assert cursor.fetchone() == (1, "100%", 1)
        cursor.execute("SELECT %s || 's'", ["%"])
        assert cursor.fetchone() == ("%s",)


def test_the_write_hold_diagnostic_times_each_transaction_and_is_off_unless_asked(db, tmp_path, monkeypatch,
                                                                                  settings):
    """bench/agency.py's SQLITE_WRITE_HOLD_DIR: each process's transactions counted and their holds summed in
    its own file, the files summed by totals_read. Unset (as here), the backend is not timed at all."""
    from dashboard.sqlite3 import base, write_hold

    assert write_hold.TimedTransactions not in base.DatabaseWrapper.__mro__
    settings.SQLITE_WRITE_HOLD_DIR = str(tmp_path)
    monkeypatch.setattr(write_hold, "WRITE_EVERY_SECONDS", 0)
    monkeypatch.setattr(write_hold, "_totals", dict.fromkeys(write_hold.FIELDS, 0.0))
    timed = type("Timed", (write_hold.TimedTransactions, base.DatabaseWrapper), {})(
        {**connections["default"].settings_dict, "NAME": str(tmp_path / "db.sqlite3")}, alias="write-hold")
    try:
        timed.ensure_connection()
        timed._start_transaction_under_autocommit()
        with timed.cursor() as cursor:
            cursor.execute("CREATE TABLE t (n integer)")
        timed._commit()
        timed._start_transaction_under_autocommit()
        with timed.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (1)")
        timed._rollback()
        with timed.cursor() as cursor:  # no transaction: nothing timed
            cursor.execute("SELECT count(*) FROM t")
            assert cursor.fetchone() == (0,)
    finally:
        timed.close()
    (tmp_path / "123.json").write_text('{"transactions": 5, "held_seconds": 1.5, "held_cpu_seconds": 0.5, '
                                        '"waited_seconds": 2.0}')  # another process's
    totals = write_hold.totals_read(str(tmp_path))
    assert totals["transactions"] == 7
    assert totals["held_seconds"] >= 1.5 and totals["held_cpu_seconds"] >= 0.5 and totals["waited_seconds"] >= 2.0
    assert totals["held_seconds"] < 60
