"""How big each table is: rows, and bytes where the database can say (SQLite's dbstat table, when the
library was built with it; PostgreSQL's pg_total_relation_size), indexes included."""

from __future__ import annotations

import logging
import os
from typing import Any

from django.apps import apps
from django.db import DatabaseError, connection

log = logging.getLogger(__name__)


def _labels() -> dict[str, str]:
    return {model._meta.db_table: model._meta.label for model in apps.get_models()}


def _sqlite_bytes() -> dict[str, int] | None:
    try:
        with connection.cursor() as cursor:
            # Every page of every table and index is visited: seconds on a large file, so this runs with the
            # nightly prune and the page shows what it found.
            cursor.execute("SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat AS s JOIN sqlite_master AS m "
                           "ON m.name = s.name GROUP BY m.tbl_name")
            return {table: int(size) for table, size in cursor.fetchall()}
    except DatabaseError:  # built without SQLITE_ENABLE_DBSTAT_VTAB
        log.info("SQLite has no dbstat table here: table sizes in rows only")
        return None


def _postgres_bytes(tables: list[str]) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname = ANY(%s)", [tables])
        return {table: int(size) for table, size in cursor.fetchall()}


def table_sizes() -> list[dict[str, Any]]:
    """[{"table", "label", "rows", "bytes"}] for every table of the database, largest first."""
    tables = sorted(connection.introspection.table_names())
    quote = connection.ops.quote_name
    rows = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 (names from introspection)
            rows[table] = cursor.fetchone()[0]
    sizes = _sqlite_bytes() if connection.vendor == "sqlite" else _postgres_bytes(tables)
    labels = _labels()
    found = [{"table": t, "label": labels.get(t, t), "rows": rows[t],
              "bytes": sizes.get(t) if sizes is not None else None} for t in tables]
    return sorted(found, key=lambda row: (-(row["bytes"] or 0), -row["rows"], row["table"]))


def database_bytes() -> int | None:
    """The whole database on disk (SQLite: the file and its write-ahead log)."""
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if not os.path.isfile(name):
            return None
        return sum(os.path.getsize(p) for p in (name, f"{name}-wal") if os.path.isfile(p))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])
