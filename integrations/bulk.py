"""Plain-SQL bulk writes for the hot paths (the sync's upserts, the call records).

They do what `bulk_create` and `bulk_update` do, without building Django expressions per row and field:
on a first sync of many locations that building cost more CPU than everything else the workers did.
Values go through each field's `get_db_prep_save`, so they are stored exactly as the ORM stores them, and
identifiers come from the model's metadata only. Neither sets primary keys on instances: callers that need
the new rows' ids use `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from itertools import chain
from operator import attrgetter
from typing import Any

import orjson
from django.conf import settings
from django.db import connections, models, router
from django.db.models.constants import OnConflict

MAX_ROWS_PER_STATEMENT = 500
REMEMBERED = (datetime, date, int, type(None))  # hashable, often repeated, and dear to prepare (datetimes)
# orjson refuses what it would otherwise write where json refuses it (no encoder): a datetime, a dataclass, a
# subclass of a JSON type. Those, and what orjson refuses outright (an integer past 64 bits), go to json.
JSON_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


Write = Callable[[], int]  # a write prepared: running it sends its statements, answering the rows sent


def _nothing() -> int:
    return 0


def statements_run(connection: Any, statements: Iterable[tuple[str, list[Any]]], count: int) -> Write:
    """A write of these (sql, params), run in order on the connection; it answers `count`. A list is prepared
    now; a generator builds each statement as it is sent, so a plain call holds one batch's values at a time."""

    def run() -> int:
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
        return count

    return run


def _statement_parts(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
                     ) -> tuple[list[Sequence[Any]], Any, Callable[[str], str], list[Any]]:
    """The rows as a list, the connection that writes `model`, its quoting of names, the fields named."""
    connection = connections[router.db_for_write(model)]
    return list(rows), connection, connection.ops.quote_name, [model._meta.get_field(name) for name in names]


def rows_insert(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]], *,
                ignore_conflicts: bool = False) -> int:
    """INSERT one row per tuple of values (in the order of `names`); answers how many were sent. On
    PostgreSQL a COPY, or (ignoring conflicts) an INSERT of arrays; elsewhere INSERTs of many rows each."""
    return _insert(model, names, rows, ignore_conflicts=ignore_conflicts, now=False)()


def rows_insert_prepared(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]], *,
                         ignore_conflicts: bool = False) -> Write:
    """rows_insert's statements built and their values prepared now; the answer runs them (in a transaction
    begun after this: on SQLite the one write lock is held from a transaction's start, so the Python work of a
    write is best done before it)."""
    return _insert(model, names, rows, ignore_conflicts=ignore_conflicts, now=True)


def _insert(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]], *,
            ignore_conflicts: bool, now: bool) -> Write:
    """rows_insert's write, its rows checked now and (`now`) its values prepared now, else as it runs."""
    rows, connection, quote, fields = _statement_parts(model, names, rows)
    if not rows:
        return _nothing
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    columns = ", ".join(quote(field.column) for field in fields)
    row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    insert = connection.ops.insert_statement(on_conflict=on_conflict)
    head = f"{insert} {quote(model._meta.db_table)} ({columns})"
    suffix = connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
    prepare = _column_preparers(fields, connection)
    width = len(fields)
    if set(map(len, rows)) != {width}:
        raise ValueError(f"every row needs {width} values ({', '.join(names)})")
    if connection.vendor == "postgresql" and not ignore_conflicts:
        # COPY: the driver formats rows in C, where a statement's parameters are quoted one by one in Python.
        copy_rows: Iterable[tuple] = zip(*_prepared_columns(prepare, rows), strict=True)
        if now:
            copy_rows = list(copy_rows)

        def copy() -> int:
            with connection.cursor() as cursor, connection.wrap_database_errors, cursor.copy(
                    f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as into:
                for row in copy_rows:
                    into.write_row(row)
            return len(rows)

        return copy
    size = _batch_size(connection, fields, rows)

    def statements() -> Iterator[tuple[str, list[Any]]]:
        for start in range(0, len(rows), size):
            batch = rows[start:start + size]
            columns_of_batch = _prepared_columns(prepare, batch)
            if connection.vendor == "postgresql":
                # An array per column (as Django's bulk_create does there): a short statement that the
                # driver parses once, where a VALUES list as long as the batch is parsed again every time.
                yield (f"{head} SELECT * FROM UNNEST({_arrays(fields, connection)}) {suffix}",  # noqa: S608
                       [list(column) for column in columns_of_batch])
            else:
                yield (f"{head} VALUES {', '.join([row_marks] * len(batch))} {suffix}",
                       list(chain.from_iterable(zip(*columns_of_batch, strict=True))))

    return statements_run(connection, list(statements()) if now else statements(), len(rows))


def _batch_size(connection: Any, fields: Sequence[Any], rows: Sequence[Sequence[Any]]) -> int:
    """Rows per statement (rows_insert's and rows_update's alike): as many as the backend takes parameters for
    (`bulk_batch_size`), at most MAX_ROWS_PER_STATEMENT."""
    return max(1, min(MAX_ROWS_PER_STATEMENT, connection.ops.bulk_batch_size(fields, rows)))


def _arrays(fields: Sequence[Any], connection: Any) -> str:
    """PostgreSQL: a placeholder per field for an array of its column's values, cast to its type's array."""
    return ", ".join(f"(%s)::{field.db_type(connection).split('(')[0]}[]" for field in fields)


def _prepared_columns(prepare: Sequence[Callable[[Sequence[Any]], Sequence[Any]]], rows: Sequence[Sequence[Any]]
                      ) -> list[Sequence[Any]]:
    """The rows' values column by column, each column prepared as a whole (`_column_preparers`)."""
    return [prep(column) for prep, column in zip(prepare, zip(*rows, strict=True), strict=True)]


def _column_preparers(fields: Sequence[Any], connection: Any) -> list[Callable[[Sequence[Any]], Sequence[Any]]]:
    """Per field, a function preparing a whole column: as it is when every value is of the field's plain type
    (or None: no stock plain field changes it), a check made in C (`map(type, ...)`); repeated values once
    each; else value by value (`_preparers`). A call per value was the bulk of a sync's writes' CPU (2 million
    in a first sync)."""

    def column_preparer(field: Any, prep: Callable[[Any], Any]) -> Callable[[Sequence[Any]], Sequence[Any]]:
        plain = _plain_type(field)
        unchanged = {plain, type(None)}

        def prep_column(values: Sequence[Any]) -> Sequence[Any]:
            types = set(map(type, values))
            if plain is not None and types <= unchanged:
                return values
            types.discard(type(None))
            if len(types) == 1 and issubclass(types.pop(), REMEMBERED):
                # One hashable type (so no two values of different types fall together): each distinct value
                # prepared once, the column mapped in C (a batch's one fetched_at, its few days).
                distinct = set(values)
                if len(distinct) * 2 <= len(values):
                    prepared = {value: prep(value) for value in distinct}
                    return list(map(prepared.__getitem__, values))
            return list(map(prep, values))

        return prep_column

    return [column_preparer(field, prep) for field, prep in zip(fields, _preparers(fields, connection), strict=True)]


def _preparers(fields: Sequence[Any], connection: Any) -> list[Callable[[Any], Any]]:
    """Per column, `get_db_prep_save` remembered for values that repeat down a column (a batch's one fetched_at,
    its day, its location): a datetime's preparation costs more than the rest of its row."""

    utc_text = connection.vendor == "sqlite" and settings.USE_TZ and connection.timezone is UTC

    def preparer(field: Any) -> Callable[[Any], Any]:
        seen: dict[tuple[type, Any], Any] = {}
        plain = _plain_type(field)
        # SQLite stores an aware datetime as its UTC text: what `adapt_datetimefield_value` answers (after
        # make_naive to the connection's UTC), without the field's checks that an aware datetime passes anyway.
        datetime_text = utc_text and type(field) is models.DateTimeField
        # SQLite stores JSON as its text: orjson writes a tag's raw answer in a fifth of json's time (json's
        # was ~3 % of a first sync's CPU). The same JSON value, in another spelling (no blanks, UTF-8 where json
        # escapes, and a NaN, which json writes although JSON has none, as null).
        json_text = (connection.vendor == "sqlite" and type(field) is models.JSONField and field.encoder is None)

        def prep(value: Any) -> Any:
            if type(value) is plain:  # stored as it is: its preparation would hand back the same value
                return value
            if datetime_text and type(value) is datetime and value.tzinfo is not None:
                if value.tzinfo is UTC:  # as HighLevel's dates parse: its text less "+00:00", without two copies
                    return value.isoformat(" ")[:-6]
                return str(value.astimezone(UTC).replace(tzinfo=None))
            if json_text and type(value) in (dict, list):
                try:
                    return orjson.dumps(value, option=JSON_STRICT).decode()
                except orjson.JSONEncodeError:
                    return field.get_db_prep_save(value, connection)
            if not isinstance(value, REMEMBERED):
                return field.get_db_prep_save(value, connection)
            key = (type(value), value)
            if key not in seen:
                seen[key] = field.get_db_prep_save(value, connection)
            return seen[key]

        return prep

    return [preparer(field) for field in fields]


# Stock fields whose `get_db_prep_save` answers a value of this exact type unchanged, on every backend.
PLAIN_FIELDS: dict[type, type] = {
    models.CharField: str, models.TextField: str, models.SlugField: str, models.EmailField: str,
    models.IntegerField: int, models.BigIntegerField: int, models.SmallIntegerField: int,
    models.PositiveIntegerField: int, models.PositiveBigIntegerField: int, models.PositiveSmallIntegerField: int,
    models.AutoField: int, models.BigAutoField: int, models.FloatField: float, models.BooleanField: bool,
}


def _plain_type(field: Any) -> type | None:
    """The Python type whose values `field` stores unprepared (a foreign key: its target's), else None. The
    exact field class only: a subclass may prepare its values (an encrypted text, say)."""
    if type(field) is models.ForeignKey:
        field = field.target_field
    return PLAIN_FIELDS.get(type(field))


def rows_update(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """UPDATE `names` by primary key; each row is (pk, *values in the order of `names`); a primary key given
    twice takes its last values. One statement per batch (as rows_insert sizes them), joining the table to the
    rows' values: `executemany` ran a statement per row, and the driver gives up the GIL for each and waits to
    get it back, up to a switch interval (5 ms) each while other threads run. Inside a write transaction (on
    SQLite, with the one write lock held) that made a sync's 50-row update hold the lock for up to 250 ms."""
    return _update(model, names, rows, now=False)()


def rows_update_prepared(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> Write:
    """rows_update's statements built and their values prepared now; the answer runs them (as
    rows_insert_prepared's)."""
    return _update(model, names, rows, now=True)


def _update(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]], *, now: bool) -> Write:
    """rows_update's write, its rows checked now and (`now`) its values prepared now, else as it runs."""
    rows, connection, quote, fields = _statement_parts(model, names, rows)
    if not rows:
        return _nothing
    if set(map(len, rows)) != {len(fields) + 1}:
        raise ValueError(f"every row needs the primary key and {len(fields)} values ({', '.join(names)})")
    rows = list({row[0]: row for row in rows}.values())
    pk = model._meta.pk
    table, key = quote(model._meta.db_table), quote(pk.column)
    prepare = _column_preparers([pk, *fields], connection)
    size = _batch_size(connection, [pk, *fields], rows)

    def statements() -> Iterator[tuple[str, list[Any]]]:
        for start in range(0, len(rows), size):
            columns = _prepared_columns(prepare, rows[start:start + size])
            if connection.vendor == "postgresql":  # an array per column, as rows_insert does there
                names_of_values = ["pk", *(f"v{n}" for n in range(len(fields)))]
                source = f"UNNEST({_arrays([pk, *fields], connection)}) AS v({', '.join(names_of_values)})"
                params: list[Any] = [list(column) for column in columns]
            else:  # SQLite names a VALUES list's columns column1, column2, ...
                names_of_values = [f"column{n + 1}" for n in range(len(fields) + 1)]
                marks = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
                source = f"(VALUES {', '.join([marks] * len(columns[0]))}) AS v"
                params = list(chain.from_iterable(zip(*columns, strict=True)))
            assignments = ", ".join(f"{quote(field.column)} = v.{value}"
                                    for field, value in zip(fields, names_of_values[1:], strict=True))
            yield (f"UPDATE {table} SET {assignments} FROM {source} "  # noqa: S608 (names only)
                   f"WHERE {table}.{key} = v.{names_of_values[0]}", params)

    return statements_run(connection, list(statements()) if now else statements(), len(rows))


def instances_insert(objs: Sequence[models.Model], *, ignore_conflicts: bool = False) -> int:
    """INSERT model instances (their defaults and `auto_now_add` applied as `save()` would), ids not set."""
    return instances_insert_prepared(objs, ignore_conflicts=ignore_conflicts)()


def instances_insert_prepared(objs: Sequence[models.Model], *, ignore_conflicts: bool = False) -> Write:
    """instances_insert prepared now, run by the answer (as rows_insert_prepared's)."""
    if not objs:
        return _nothing
    model = type(objs[0])
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]
    if len(fields) > 1 and all(_reads_attribute(field) for field in fields):
        # A tuple per object from one C-level getter: `pre_save` per field and object cost more than the INSERT.
        rows: list[Any] = list(map(attrgetter(*(field.attname for field in fields)), objs))
    else:
        rows = [[field.pre_save(obj, add=True) for field in fields] for obj in objs]
    return rows_insert_prepared(model, [field.name for field in fields], rows, ignore_conflicts=ignore_conflicts)


def _reads_attribute(field: Any) -> bool:
    """Whether `field.pre_save(obj, add=True)` is `getattr(obj, field.attname)` (no auto_now, no subclass hook)."""
    pre_save = type(field).pre_save
    if pre_save is models.Field.pre_save:
        return True
    return (pre_save in (models.DateField.pre_save, models.DateTimeField.pre_save)
            and not field.auto_now and not field.auto_now_add)


def instances_update(objs: Sequence[models.Model], names: Sequence[str]) -> int:
    """UPDATE `names` of model instances, by primary key."""
    return instances_update_prepared(objs, names)()


def instances_update_prepared(objs: Sequence[models.Model], names: Sequence[str]) -> Write:
    """instances_update prepared now, run by the answer (as rows_insert_prepared's)."""
    if not objs:
        return _nothing
    model = type(objs[0])
    fields = [model._meta.get_field(name) for name in names]
    return rows_update_prepared(model, names, [[obj.pk, *(getattr(obj, field.attname) for field in fields)]
                                               for obj in objs])
