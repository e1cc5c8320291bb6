"""Plain-SQL bulk writes for the hot paths (the sync's upserts, the call records).

They do what `bulk_create` and `bulk_update` do, without building Django expressions per row and field:
on a first sync of many locations that building cost more CPU than everything else the workers did.
Values go through each field's `get_db_prep_save`, so they are stored exactly as the ORM stores them, and
identifiers come from the model's metadata only. Neither sets primary keys on instances: callers that need
the new rows' ids use `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models.constants import OnConflict


def rows_insert(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]], *,
                ignore_conflicts: bool = False) -> int:
    """INSERT one row per tuple of values (in the order of `names`); answers how many were sent."""
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    suffix = connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
    sql = (f"{connection.ops.insert_statement(on_conflict=on_conflict)} {quote(model._meta.db_table)} "
           f"({columns}) VALUES ({marks}) {suffix}")
    params = [[field.get_db_prep_save(value, connection) for field, value in zip(fields, row, strict=True)]
              for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(rows)


def rows_update(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """UPDATE `names` by primary key; each row is (pk, *values in the order of `names`)."""
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    pk = model._meta.pk
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"  # noqa: S608
    params = [[field.get_db_prep_save(value, connection) for field, value in zip(fields, row[1:], strict=True)]
              + [pk.get_db_prep_save(row[0], connection)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(rows)


def instances_insert(objs: Sequence[models.Model], *, ignore_conflicts: bool = False) -> int:
    """INSERT model instances (their defaults and `auto_now_add` applied as `save()` would), ids not set."""
    if not objs:
        return 0
    model = type(objs[0])
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]
    rows = [[field.pre_save(obj, add=True) for field in fields] for obj in objs]
    return rows_insert(model, [field.name for field in fields], rows, ignore_conflicts=ignore_conflicts)


def instances_update(objs: Sequence[models.Model], names: Sequence[str]) -> int:
    """UPDATE `names` of model instances, by primary key."""
    if not objs:
        return 0
    model = type(objs[0])
    fields = [model._meta.get_field(name) for name in names]
    return rows_update(model, names, [[obj.pk, *(getattr(obj, field.attname) for field in fields)] for obj in objs])
