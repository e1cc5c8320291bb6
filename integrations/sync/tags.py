"""Tags of one location: every page of the listing, then details for new or changed tags, then posts.

- The first complete listing of a location is its baseline: those tags raise no `tag.created`.
- A tag absent from a complete listing is marked removed (kept, with the time); one that comes back is
  active again (`tag.created` with `"reappeared": true`). HighLevel's `deleted: true` tags are kept as removed.
- An unclean listing (BadResponse: malformed items, a page that could not be read) still stores the
  well-formed tags, records the problems with their traceId, and marks nothing removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from integrations.bulk import instances_insert_prepared, rows_insert_prepared, rows_update_prepared
from integrations.data_versions import TAGS, versions_move
from integrations.highlevel.client import DETAILS_BATCH
from integrations.highlevel.errors import BadResponse
from integrations.highlevel.types import Tag as ApiTag
from integrations.models import Event, Location, Tag, TagDetail
from integrations.pk_set import PkSet
from integrations.sync import posts
from integrations.sync.lanes import in_lanes
from integrations.sync.runs import RunContext
from integrations.sync.upsert import BATCH, Writes, assign, batched, fingerprint
from integrations.tag_counts import tag_counts_store

DETAIL_FIELDS = ("tag", "data", "fetched_at", "changed_at")
# A listed tag created: its row as values (a first sync creates every tag: a Tag instance each cost more than
# its INSERT). `details_for` empty: the details of a new tag are due.
NEW_TAG_FIELDS = ("location", "tag_id", "name", "sort_name", "created_by", "deleted", "created_at", "updated_at",
                  "raw", "first_seen_at", "last_seen_at", "removed_at", "is_baseline", "details_for")


def tags_by_id(location: Location, tag_ids: list[str]) -> QuerySet[Tag]:
    """The location's tags with these HighLevel ids, unordered: Tag's default ordering (by name) made
    SQLite walk the (location, name) index through every tag of the location for each batch, so a
    100,000-tag sync took 248 s instead of 17; unordered, it finds each through (location, tag_id)."""
    return Tag.objects.filter(location=location, tag_id__in=tag_ids).order_by()


class IncompleteListing(Exception):
    """The listing could not be read completely; what was read is stored, nothing was marked removed.
    Worth another try later, as the unclean answer that caused it (integrations/sync/runs.py reads this)."""

    retryable = True

    def __init__(self, message: str, trace_id: str | None = None):
        super().__init__(message)
        self.trace_id = trace_id


def tags_refresh(ctx: RunContext) -> None:
    location = ctx.location
    baseline = location.tags_baselined_at is None
    now = timezone.now()
    # The listed tags that were already stored and stayed unchanged, by primary key: a bitmap (1 bit per
    # id), not a set of HighLevel ids (~100 MB at 1,000,000 tags). Created and changed rows carry
    # last_seen_at == now instead (_mark_absent_removed reads both).
    seen = PkSet()
    # The listed tags whose details are due, by primary key too: their HighLevel ids and listing fingerprints
    # are read back from the rows when the details are fetched (a list of them grew by ~0.25 kB a tag: past
    # 150 MB at 1,000,000 tags in a first sync).
    due = PkSet()
    listed = 0
    estimate = Tag.objects.filter(location=location, removed_at__isnull=True).count()
    listing = ctx.client.iter_tags(location.location_id)
    try:
        for batch in batched(listing, BATCH):
            listed += len(batch)
            _save_listed(ctx, batch, baseline=baseline, now=now, seen=seen, due=due)
            ctx.progress(listed, max(estimate, listed) * 2)
    except BadResponse as exc:
        _record_bad(ctx, exc)
        raise IncompleteListing(f"tag listing incomplete: {exc}", exc.trace_id) from exc
    _mark_absent_removed(ctx, seen, now=now)
    ctx.wrote(tag_counts_store(location))
    if baseline:
        Location.objects.filter(pk=location.pk).update(tags_baselined_at=now)
        location.tags_baselined_at = now
    total = listed + len(due)
    ctx.progress(listed, total, force=True)
    _fetch_details(ctx, due, baseline=baseline, done=listed, total=total)
    posts.posts_refresh(ctx)


def _record_bad(ctx: RunContext, exc: BadResponse) -> None:
    ctx.problem(f"{exc}", exc.trace_id)
    for line in exc.problems:
        ctx.problem(line, exc.trace_id)


def _listed_fields(tag: ApiTag) -> dict[str, Any]:
    return {
        "name": tag.name[:255], "sort_name": tag.name.casefold()[:255], "created_by": (tag.created_by or "")[:64],
        "deleted": tag.deleted, "created_at": tag.created_at, "updated_at": tag.updated_at, "raw": tag.raw,
    }


def _event(writes: Writes, ctx: RunContext, kind: str, row: Tag, now: datetime, **payload: Any) -> None:
    writes.events.append(_tag_event(ctx, kind, row.tag_id, row.name, now, **payload))


def _tag_event(ctx: RunContext, kind: str, tag_id: str, name: str, now: datetime, **payload: Any) -> Event:
    location = ctx.location
    return Event(
        type=kind, occurred_at=now, location_id=location.pk, connection_id=location.connection_id,
        subject_id=tag_id, run_id=ctx.run.pk,
        payload={"location_id": location.location_id, "tag_id": tag_id, "name": name, **payload},
    )


def _save_listed(ctx: RunContext, batch: list[ApiTag], *, baseline: bool, now: datetime, seen: PkSet,
                 due: PkSet) -> None:
    """Upsert one batch of listed tags: the unchanged ones' ids go into `seen`, those whose details are due
    (new, or listed otherwise than when their details were fetched) into `due`."""
    location = ctx.location
    existing = {t.tag_id: t for t in tags_by_id(location, [t.id for t in batch])}
    writes = Writes(Tag, with_ids=("location_id", "tag_id"),  # a created tag's id goes into `due`
                    on_write=lambda: versions_move(location.pk, TAGS), columns=NEW_TAG_FIELDS)
    wanting = []
    created = []  # HighLevel ids of the created tags whose details are due
    for api_tag in batch:
        fields = _listed_fields(api_tag)
        row = existing.get(api_tag.id)
        if row is None:
            writes.create_row((location.pk, api_tag.id, *(fields[name] for name in NEW_TAG_FIELDS[2:9]), now, now,
                               now if api_tag.deleted else None, baseline, ""))
            ctx.count("created")
            if not api_tag.deleted:
                created.append(api_tag.id)
                if not baseline:
                    writes.events.append(_tag_event(ctx, Event.Type.TAG_CREATED, api_tag.id, fields["name"], now))
            continue
        before = {"name": row.name, "removed": row.removed_at is not None}
        changed = assign(row, fields)
        want_removed = api_tag.deleted
        if want_removed != before["removed"]:
            row.removed_at = now if want_removed else None
            changed.append("removed_at")
        if changed:
            row.last_seen_at = now
            writes.update(row, [*changed, "last_seen_at"])
            ctx.count("removed" if want_removed and not before["removed"] else "updated")
            _tag_change_event(writes, ctx, row, now, before, changed)
        else:
            seen.add(row.pk)
            ctx.count("unchanged")
        # The row's listing as stored (what _due_batches reads back), not the answer's own: equal as data.
        if not api_tag.deleted and row.details_for != fingerprint(row.raw):
            wanting.append(row)
    ctx.wrote(writes.commit())
    for row in wanting:
        due.add(row.pk)
    for tag_id in created:
        due.add(writes.ids[(location.pk, tag_id)])


def _tag_change_event(
    writes: Writes, ctx: RunContext, row: Tag, now: datetime, before: dict, changed: list[str]
) -> None:
    if "removed_at" in changed and row.removed_at is not None:
        _event(writes, ctx, Event.Type.TAG_REMOVED, row, now, deleted=row.deleted, removed_at=now.isoformat())
    elif "removed_at" in changed:
        _event(writes, ctx, Event.Type.TAG_CREATED, row, now, reappeared=True)
    elif set(changed) - {"raw"}:
        payload: dict[str, Any] = {"changed": sorted(set(changed) - {"raw", "sort_name"})}
        if before["name"] != row.name:
            payload["previous_name"] = before["name"]
        _event(writes, ctx, Event.Type.TAG_UPDATED, row, now, **payload)


def _mark_absent_removed(ctx: RunContext, seen: PkSet, *, now: datetime) -> int:
    """After a complete listing only: active tags it did not contain become removed (neither unchanged
    in it, in `seen`, nor created or changed by it, last seen `now`)."""
    location = ctx.location
    active = Tag.objects.filter(location=location, removed_at__isnull=True).order_by()
    absent = PkSet()  # a bit each: a listing that lost most of 1,000,000 tags must not hold a list of them
    for pk, last_seen in active.values_list("pk", "last_seen_at").iterator(chunk_size=2000):
        if pk not in seen and last_seen != now:
            absent.add(pk)
    for pks in batched(absent, BATCH):
        writes = Writes(Tag, on_write=lambda: versions_move(location.pk, TAGS))
        for row in Tag.objects.filter(pk__in=pks).order_by():
            row.removed_at = now
            writes.update(row, ["removed_at"])
            _event(writes, ctx, Event.Type.TAG_REMOVED, row, now, deleted=False, removed_at=now.isoformat())
        ctx.wrote(writes.commit())
    ctx.count("removed", len(absent))
    return len(absent)


def _due_batches(due: PkSet) -> Iterator[dict[str, str]]:
    """The due tags, a details request's worth at a time: {HighLevel id: fingerprint of its listing}, read
    back from the rows the listing wrote (one query per batch, in the caller's thread: in_lanes reads this
    lazily). Plain SQL: the ORM's compiling of the batch's IN list cost more than the read; each listing is
    decoded by the field itself (orjson would read an integer past 64 bits as a float, and change the
    fingerprint)."""
    quote = connection.ops.quote_name
    raw = Tag._meta.get_field("raw")
    for pks in batched(due, DETAILS_BATCH):
        sql = (f"SELECT {quote('tag_id')}, {quote('raw')} FROM {quote(Tag._meta.db_table)} "  # noqa: S608
               f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(pks))})")
        with connection.cursor() as cursor:
            cursor.execute(sql, pks)
            rows = cursor.fetchall()
        yield {tag_id: fingerprint(raw.from_db_value(value, None, connection)) for tag_id, value in rows}


def _fetch_details(ctx: RunContext, due: PkSet, *, baseline: bool, done: int, total: int) -> None:
    """One request's worth of ids at a time, fetched in lanes, each batch stored as it comes."""

    def fetch(listed: dict[str, str]) -> list[ApiTag]:
        try:
            return ctx.client.get_tag_details(ctx.location.location_id, list(listed))
        except BadResponse as exc:
            _record_bad(ctx, exc)
            return list(exc.partial or [])

    for listed, details in in_lanes(fetch, _due_batches(due)):
        _save_details(ctx, details, listed, baseline=baseline)
        done += len(listed)
        ctx.progress(done, total)


def _details_state(location_pk: int, tag_ids: list[str]) -> tuple[dict[str, tuple], dict[int, tuple]]:
    """({tag_id: (pk, name, details_for)} of the location's tags with these ids, {tag pk: (detail pk, data)}
    of their stored details). Plain SQL: the ORM's compiling of two IN lists for every answer of the details
    endpoint cost more than the two reads (the (location, tag_id) and tag_id indexes answer them)."""
    if not tag_ids:
        return {}, {}
    quote, marks = connection.ops.quote_name, ", ".join(["%s"] * len(tag_ids))
    tag_sql = (f"SELECT {quote('tag_id')}, {quote('id')}, {quote('name')}, {quote('details_for')} "  # noqa: S608
               f"FROM {quote(Tag._meta.db_table)} WHERE {quote('location_id')} = %s AND {quote('tag_id')} IN ({marks})")
    with connection.cursor() as cursor:
        cursor.execute(tag_sql, [location_pk, *tag_ids])
        tags = {tag_id: (pk, name, details_for) for tag_id, pk, name, details_for in cursor.fetchall()}
        if not tags:
            return tags, {}
        pks = [pk for pk, _, _ in tags.values()]
        marks = ", ".join(["%s"] * len(pks))
        detail_sql = (f"SELECT {quote('id')}, {quote('tag_id')}, {quote('data')} "  # noqa: S608 (names only)
                      f"FROM {quote(TagDetail._meta.db_table)} WHERE {quote('tag_id')} IN ({marks})")
        cursor.execute(detail_sql, pks)
        data = TagDetail._meta.get_field("data")
        stored = {tag_pk: (pk, data.from_db_value(value, None, connection))
                  for pk, tag_pk, value in cursor.fetchall()}
    return tags, stored


def _save_details(ctx: RunContext, details: list[ApiTag], listed: dict[str, str], *, baseline: bool) -> None:
    """Store what the details endpoint answered, and on each tag the fingerprint of the listing it answers."""
    now = timezone.now()
    tags, stored = _details_state(ctx.location.pk, [d.id for d in details])
    creates, updates, answered, events = [], [], [], []
    for detail in details:
        if detail.id not in tags:
            continue
        tag_pk, name, details_for = tags[detail.id]
        current = stored.get(tag_pk)
        if current is None:
            creates.append((tag_pk, detail.raw, now, now))
        elif current[1] != detail.raw:
            updates.append((current[0], detail.raw, now, now))
            if not baseline:
                events.append(_tag_event(ctx, Event.Type.TAG_DETAILS_UPDATED, detail.id, name, now))
        if detail.id in listed and details_for != listed[detail.id]:
            answered.append((tag_pk, listed[detail.id]))
    writes = (rows_insert_prepared(TagDetail, DETAIL_FIELDS, creates),
              rows_update_prepared(TagDetail, DETAIL_FIELDS[1:], updates),
              rows_update_prepared(Tag, ("details_for",), answered), instances_insert_prepared(events))
    with transaction.atomic():  # it runs what was prepared before it (on SQLite it holds the one write lock)
        written = sum(write() for write in writes)
    ctx.wrote(written)
