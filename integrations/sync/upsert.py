"""Compare-before-write upserts in bounded batches: an unchanged row is never written.

Callers fetch from HighLevel first, then hand a batch here; each batch is one short transaction
(no HTTP inside), so SQLite's single writer is held for milliseconds, not for a page fetch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from django.db import connections, models, router, transaction

from integrations.bulk import (
    instances_insert_prepared,
    instances_update_prepared,
    rows_insert_prepared,
)
from integrations.models import Event

BATCH = 500
T = TypeVar("T")


def batched(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def fingerprint(data: Any) -> str:
    """A stable digest of JSON data (key order does not matter)."""
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode(), usedforsecurity=False).hexdigest()


def assign(obj: models.Model, fields: dict[str, Any]) -> list[str]:
    """Set the fields that differ; answer their names (empty: nothing to write)."""
    changed = [name for name, value in fields.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, fields[name])
    return changed


class Writes:
    """One batch's pending writes: rows to create (instances, or with `columns` plain tuples of their values:
    no model instance built per row), rows to update (with the union of changed fields), events to raise.
    `commit()` writes them in one short transaction and answers the rows written."""

    def __init__(self, model: type[models.Model], *, ignore_conflicts: bool = False,
                 with_ids: tuple[str, str] | None = None, on_write: Callable[[], None] | None = None,
                 columns: Sequence[str] = ()):
        self.model = model
        # True where another unit may create the same rows at the same time (accounts): theirs stands.
        self.ignore_conflicts = ignore_conflicts
        # Where the caller uses the new rows' ids afterwards: the two attributes of the model's unique key
        # (plain SQL inserts them, one read by that key gives the ids: `bulk_create` cost several times that).
        self.with_ids = with_ids
        self.on_write = on_write  # run in the commit's transaction when it writes (a data version moving)
        self.columns = tuple(columns)  # the fields of the rows `create_row` takes, in their order
        self.rows: list[tuple] = []
        # With `with_ids`, after the commit: the created rows' ids by the values of those two attributes.
        self.ids: dict[tuple[Any, Any], int] = {}
        self.creates: list[models.Model] = []
        self.updates: list[models.Model] = []
        self.update_fields: set[str] = set()
        self.events: list[Event] = []

    def create(self, obj: models.Model) -> None:
        self.creates.append(obj)

    def create_row(self, values: tuple) -> None:
        """A row to create, as the values of `columns` (every column: Django's defaults are not the database's)."""
        self.rows.append(values)

    def update(self, obj: models.Model, changed: list[str]) -> None:
        if changed:
            self.updates.append(obj)
            self.update_fields.update(changed)

    def event(self, **fields: Any) -> None:
        self.events.append(Event(**fields))

    def commit(self) -> int:
        if not (self.creates or self.rows or self.updates or self.events):
            return 0
        # Prepared before the transaction, which runs them only (on SQLite it holds the one write lock).
        creates = (instances_insert_prepared(self.creates, ignore_conflicts=self.ignore_conflicts),
                   rows_insert_prepared(self.model, self.columns, self.rows, ignore_conflicts=self.ignore_conflicts))
        then = (instances_update_prepared(self.updates, sorted(self.update_fields)),
                instances_insert_prepared(self.events))
        with transaction.atomic():
            for write in creates:
                write()
            if (self.creates or self.rows) and self.with_ids:
                self._read_ids()
            for write in then:
                write()
            if self.on_write is not None:
                self.on_write()
        return len(self.creates) + len(self.rows) + len(self.updates) + len(self.events)

    def _read_ids(self) -> None:
        """Give the created instances their ids (and mark them saved), as `bulk_create` would, and keep every
        created row's id in `ids`. Plain SQL: the ORM's compiling of an IN list of a batch's values cost more
        than the read (the model's unique key answers it)."""
        first, second = self.with_ids or ("", "")
        key = attrgetter(first, second)
        wanted = {key(obj) for obj in self.creates}
        if self.rows:
            at = self.columns.index(self._field_name(first)), self.columns.index(self._field_name(second))
            wanted.update((row[at[0]], row[at[1]]) for row in self.rows)
        db = router.db_for_write(self.model)
        connection = connections[db]
        quote, meta = connection.ops.quote_name, self.model._meta
        firsts, seconds = list({a for a, _ in wanted}), list({b for _, b in wanted})
        sql = (f"SELECT {quote(meta.pk.column)}, {quote(meta.get_field(first).column)}, "  # noqa: S608 (names only)
               f"{quote(meta.get_field(second).column)} FROM {quote(meta.db_table)} "
               f"WHERE {quote(meta.get_field(first).column)} IN ({', '.join(['%s'] * len(firsts))}) "
               f"AND {quote(meta.get_field(second).column)} IN ({', '.join(['%s'] * len(seconds))})")
        with connection.cursor() as cursor:
            cursor.execute(sql, [*firsts, *seconds])
            self.ids = {(a, b): pk for pk, a, b in cursor.fetchall() if (a, b) in wanted}
        for obj in self.creates:
            obj.pk = self.ids[key(obj)]
            obj._state.adding = False
            obj._state.db = db

    def _field_name(self, attribute: str) -> str:
        """The field whose attribute this is (`location_id`: `location`), as `columns` names it."""
        return self.model._meta.get_field(attribute).name
