"""Deleting many rows without holding the database: a batch of ids at a time, each its own short transaction.

SQLite has one writer at a time and PostgreSQL holds row locks until commit, so one DELETE of a month of
rows would stall the sync's writers for its whole length; batches of a few thousand ids let them in between.
"""

from __future__ import annotations

from collections.abc import Container

from django.db import transaction
from django.db.models import QuerySet


def delete_in_batches(queryset: QuerySet, *, batch_size: int, keep: Container[int] = ()) -> int:
    """Delete every row of `queryset` except the ids in `keep`, `batch_size` ids per transaction, walking up
    the primary key; answers the rows of the queryset's model deleted (Django's collector deletes rows that
    cascade and clears SET_NULL references in the same transaction)."""
    model = queryset.model
    label = model._meta.label
    deleted, after = 0, None
    while True:
        page = queryset.order_by("pk") if after is None else queryset.filter(pk__gt=after).order_by("pk")
        ids = list(page.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        after = ids[-1]
        doomed = [pk for pk in ids if pk not in keep]
        if doomed:
            with transaction.atomic():
                deleted += model._base_manager.filter(pk__in=doomed).delete()[1].get(label, 0)


def count_outside(queryset: QuerySet, *, keep: Container[int] = ()) -> int:
    """What `delete_in_batches` would delete (a dry run)."""
    if not keep:
        return queryset.count()
    return sum(1 for pk in queryset.values_list("pk", flat=True).iterator(chunk_size=5000) if pk not in keep)
