"""Compare-before-write upserts in bounded batches: an unchanged row is never written.

Callers fetch from HighLevel first, then hand a batch here; each batch is one short transaction
(no HTTP inside), so SQLite's single writer is held for milliseconds, not for a page fetch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import Any, TypeVar

from django.db import models, transaction

from integrations.bulk import instances_insert, instances_update
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
    """One batch's pending writes: rows to create, rows to update (with the union of changed fields),
    events to raise. `commit()` writes them in one short transaction and answers the rows written."""

    def __init__(self, model: type[models.Model], *, ignore_conflicts: bool = False,
                 with_ids: tuple[str, str] | None = None, on_write: Callable[[], None] | None = None):
        self.model = model
        # True where another unit may create the same rows at the same time (accounts): theirs stands.
        self.ignore_conflicts = ignore_conflicts
        # Where the caller uses the new rows' ids afterwards: the two attributes of the model's unique key
        # (plain SQL inserts them, one read by that key gives the ids: `bulk_create` cost several times that).
        self.with_ids = with_ids
        self.on_write = on_write  # run in the commit's transaction when it writes (a data version moving)
        self.creates: list[models.Model] = []
        self.updates: list[models.Model] = []
        self.update_fields: set[str] = set()
        self.events: list[Event] = []

    def create(self, obj: models.Model) -> None:
        self.creates.append(obj)

    def update(self, obj: models.Model, changed: list[str]) -> None:
        if changed:
            self.updates.append(obj)
            self.update_fields.update(changed)

    def event(self, **fields: Any) -> None:
        self.events.append(Event(**fields))

    def commit(self) -> int:
        if not (self.creates or self.updates or self.events):
            return 0
        with transaction.atomic():
            instances_insert(self.creates, ignore_conflicts=self.ignore_conflicts)
            if self.creates and self.with_ids:
                self._read_ids()
            instances_update(self.updates, sorted(self.update_fields))
            instances_insert(self.events)
            if self.on_write is not None:
                self.on_write()
        return len(self.creates) + len(self.updates) + len(self.events)

    def _read_ids(self) -> None:
        """Give the created instances their ids (and mark them saved), as `bulk_create` would."""
        first, second = self.with_ids or ("", "")
        key = attrgetter(first, second)
        wanted = {key(obj) for obj in self.creates}
        found = self.model.objects.filter(**{f"{first}__in": {a for a, _ in wanted},
                                             f"{second}__in": {b for _, b in wanted}}).order_by()
        ids = {(a, b): pk for pk, a, b in found.values_list("pk", first, second) if (a, b) in wanted}
        for obj in self.creates:
            obj.pk = ids[key(obj)]
            obj._state.adding = False
            obj._state.db = found.db
