"""Deleting many rows without holding the database: a range of ids at a time, each its own short transaction.

SQLite has one writer at a time and PostgreSQL holds row locks until commit, so one DELETE of a month of
rows would stall the sync's writers for its whole length; batches of a few thousand ids let them in between.

A batch is a range of the primary key (with the rule's own conditions), not a list of ids, and its rows are
deleted without being loaded: references to them that are SET_NULL are cleared by one UPDATE each first.
Django's collector, which loads every row (JSON columns and all) and binds thousands of ids per statement,
took three quarters of a nightly prune (bench/lifecycle.py); it still handles a batch whose rows have
others that cascade, or a model with delete signal receivers.
"""

from __future__ import annotations

from collections.abc import Container

from django.db import models, transaction
from django.db.models import Max, Min, QuerySet
from django.db.models.deletion import get_candidate_relations_to_delete
from django.db.models.signals import post_delete, pre_delete


def _batch_delete(batch: QuerySet) -> int:
    """Delete the rows of `batch` (no slicing); answers how many of its model went."""
    model = batch.model
    # Every relation the collector would follow, hidden ones (related_name="+") included.
    relations = [rel for rel in get_candidate_relations_to_delete(model._meta)
                 if rel.on_delete is not models.DO_NOTHING]
    nulled = [rel for rel in relations if rel.on_delete is models.SET_NULL]
    others = [rel for rel in relations if rel.on_delete is not models.SET_NULL]

    def referring(rel):
        return rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": batch.values("pk")})

    if (pre_delete.has_listeners(model) or post_delete.has_listeners(model)
            or any(referring(rel).exists() for rel in others)):
        return batch.delete()[1].get(model._meta.label, 0)
    for rel in nulled:
        referring(rel).update(**{rel.field.name: None})
    return batch._raw_delete(batch.db)


def delete_in_batches(queryset: QuerySet, *, batch_size: int, keep: Container[int] = ()) -> int:
    """Delete every row of `queryset` except the ids in `keep`, `batch_size` ids per transaction, walking up
    the primary key; answers the rows of the queryset's model deleted."""
    # The ids to walk, found once (by the time column's index where there is one): each batch then reads a
    # bounded range of the primary key, and the last, empty one does not scan the rest of a large table.
    bounds = queryset.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 0
    deleted, span = 0, queryset.filter(pk__gte=bounds["low"], pk__lte=bounds["high"])
    while True:
        ids = list(span.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        kept = [pk for pk in ids if pk in keep]
        batch = queryset.filter(pk__gte=ids[0], pk__lte=ids[-1])
        if kept:
            batch = batch.exclude(pk__in=kept)
        if len(kept) < len(ids):
            with transaction.atomic():
                deleted += _batch_delete(batch)
        span = span.filter(pk__gt=ids[-1])


def count_outside(queryset: QuerySet, *, keep: Container[int] = ()) -> int:
    """What `delete_in_batches` would delete (a dry run)."""
    if not keep:
        return queryset.count()
    return sum(1 for pk in queryset.values_list("pk", flat=True).iterator(chunk_size=5000) if pk not in keep)
