"""Django's SQLite backend, with its placeholders converted by a string replace where that is the same.

Django's SQLite cursor rewrites every statement's `%s` to sqlite3's `?` with a regular expression (`%s` not
after `%`, then `%%` to `%`): for the sync's bulk writes, statements of thousands of placeholders, that scan
was ~3 % of a first sync's CPU. Where the statement holds no `%%`, no `%s` follows a `%`, and a plain replace
answers the same text. Everything else is Django's (settings.py names this module as the engine on SQLite).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.sqlite3 import base

from dashboard.sqlite3 import write_hold


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is None and "%%" not in query:
            return query.replace("%s", "?")
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=SQLiteCursorWrapper)


if settings.SQLITE_WRITE_HOLD_DIR:  # bench/agency.py's diagnostic of the write lock (else the class above)
    DatabaseWrapper = type("DatabaseWrapper", (write_hold.TimedTransactions, DatabaseWrapper), {})  # type: ignore[misc]
