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
