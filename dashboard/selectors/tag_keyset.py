"""Keyset ("seek") pages of a location's tags: a page starts after (or ends before) the sort key and id of
a row, read from the (location, sort key, id) index, so page 1 and page 20,000 of 1,000,000 tags cost the
same and a link keeps showing the same place when tags are added in between (no OFFSET, no skipped or
repeated rows).

A cursor is opaque to readers: url-safe base64 of `[sort, key value, id]`. A cursor that does not decode,
or was made for another sort, is a `BadCursor` (the API answers 400, the page starts again at the first
page and says so).

`updated_at` may be null. Each backend orders nulls its own way (SQLite: smallest, PostgreSQL: largest);
the nulls and the non-nulls are read as two segments, each an index range, one after the other.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import OrderBy

from dashboard.params import Params
from integrations.models import Tag

KEY_FIELDS = {"name": "sort_name", "updated_at": "updated_at", "first_seen_at": "first_seen_at"}
NULLABLE = {"updated_at"}


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    sort: str
    value: Any  # str (name), datetime, or None (a null updated_at)
    pk: int


def key_field(sort: str) -> str:
    return KEY_FIELDS[sort.lstrip("-")]


def cursor_encode(sort: str, tag: Tag) -> str:
    value = getattr(tag, key_field(sort))
    raw = json.dumps([sort, value.isoformat() if isinstance(value, datetime) else value, tag.pk],
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(token: str, sort: str) -> Cursor:
    """The cursor in `token`, for `sort`; BadCursor when it is not one of ours or was made for another sort."""
    try:
        got_sort, value, pk = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise BadCursor("This page link is damaged: start again from the first page.") from None
    if got_sort != sort:
        raise BadCursor("This page link was made for another sort order: start again from the first page.")
    field = key_field(sort)
    try:
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
        if value is None:
            if field not in NULLABLE:
                raise ValueError
        elif field == "sort_name":
            if not isinstance(value, str):
                raise ValueError
        elif (value := datetime.fromisoformat(value)).tzinfo is None:
            raise ValueError
    except (ValueError, TypeError):
        raise BadCursor("This page link is damaged: start again from the first page.") from None
    return Cursor(sort, value, pk)


@dataclass
class KeysetPage:
    rows: list[Tag]
    next_cursor: str | None  # rows after this page
    prev_cursor: str | None  # rows before it
    at_start: bool


def _seek_key(tags: QuerySet[Tag]) -> tuple[QuerySet[Tag], str]:
    """The queryset and the name to compare on: the ordering's own first term (a field, an annotation, or
    an expression the selector chose for the planner's sake), so the filter matches the index the order uses."""
    first = tags.query.order_by[0]
    if isinstance(first, OrderBy):
        return tags.alias(_seek=first.expression), "_seek"
    return tags, first.lstrip("-")


def _segments(tags: QuerySet[Tag], key: str, cursor: Cursor | None, *, ascending: bool, nullable: bool,
              nulls_largest: bool) -> list[QuerySet[Tag]]:
    """The rows beyond `cursor` in the scan order, as index ranges read one after the other."""
    nulls_at_end = ascending == nulls_largest
    beyond = "gt" if ascending else "lt"
    if cursor is None:
        if not nullable:
            return [tags]
        present, absent = tags.filter(**{f"{key}__isnull": False}), tags.filter(**{f"{key}__isnull": True})
        return [present, absent] if nulls_at_end else [absent, present]
    if cursor.value is None:
        nulls = tags.filter(**{f"{key}__isnull": True, f"pk__{beyond}": cursor.pk})
        return [nulls] if nulls_at_end else [nulls, tags.filter(**{f"{key}__isnull": False})]
    # `key >= v AND (key > v OR pk > id)`: the first term is the index range, the second drops the ties before.
    ranged = tags.filter(**{f"{key}__{beyond}e": cursor.value}).filter(
        Q(**{f"{key}__{beyond}": cursor.value}) | Q(**{f"pk__{beyond}": cursor.pk}))
    return [ranged, tags.filter(**{f"{key}__isnull": True})] if nullable and nulls_at_end else [ranged]


def _ids(tags: QuerySet[Tag], cursor: Cursor | None, *, sort: str, backwards: bool, limit: int) -> list[int]:
    scan = tags.reverse() if backwards else tags
    scan, key = _seek_key(scan)
    ascending = not sort.startswith("-") if not backwards else sort.startswith("-")
    nulls_largest = connections[tags.db].vendor == "postgresql"
    ids: list[int] = []
    for segment in _segments(scan, key, cursor, ascending=ascending, nullable=key_field(sort) in NULLABLE,
                             nulls_largest=nulls_largest):
        ids.extend(segment.values_list("pk", flat=True)[: limit - len(ids)])
        if len(ids) >= limit:
            break
    return ids


def keyset_page(tags: QuerySet[Tag], *, sort: str, size: int, after: Cursor | None = None,
                before: Cursor | None = None, last: bool = False) -> KeysetPage:
    """One page of `tags` (ordered by `tag_ordering(sort)`): the first, the one after `after`, the one
    before `before`, or the last. Reads size + 1 ids to know whether more lie beyond, then just those rows."""
    backwards = before is not None or last
    ids = _ids(tags, before if backwards else after, sort=sort, backwards=backwards, limit=size + 1)
    more = len(ids) > size
    ids = ids[:size]
    if backwards:
        ids.reverse()
    found = Tag.objects.in_bulk(ids)
    rows = [found[pk] for pk in ids if pk in found]
    if not rows:
        return KeysetPage([], None, None, at_start=not backwards and after is None)
    has_next = (not backwards and more) or (before is not None)
    has_prev = (backwards and more) or (after is not None)
    return KeysetPage(rows, cursor_encode(sort, rows[-1]) if has_next else None,
                      cursor_encode(sort, rows[0]) if has_prev else None,
                      at_start=not has_prev)


@dataclass(frozen=True)
class Navigation:
    """Where a request wants its page: after a cursor, before one, the last page, or (none) the first."""

    after: Cursor | None = None
    before: Cursor | None = None
    last: bool = False

    @property
    def given(self) -> bool:
        return bool(self.after or self.before or self.last)


def navigation(params: Params, sort: str) -> Navigation:
    """Read after=, before= and last=1. A bad cursor fails as `params` says: a 400 on the API; on a page,
    a note and the first page."""
    last = params.choice("last", ("1", "0"), default="0") == "1"
    cursors: dict[str, Cursor] = {}
    for name in ("after", "before"):
        token = params.text(name, max_length=1000)
        if token:
            try:
                cursors[name] = cursor_decode(token, sort)
            except BadCursor as exc:
                params.fail(name, str(exc))
                return Navigation()
    if len(cursors) + last > 1:
        params.fail("after", "Give at most one of after, before and last.")
        return Navigation()
    return Navigation(cursors.get("after"), cursors.get("before"), last)


def page_links(page: KeysetPage, state: dict[str, str]) -> dict[str, dict[str, str] | None]:
    """The queries of the first, previous, next and last pages (None where there is none)."""
    return {
        "first": state if not page.at_start else None,
        "previous": {**state, "before": page.prev_cursor} if page.prev_cursor else None,
        "next": {**state, "after": page.next_cursor} if page.next_cursor else None,
        "last": {**state, "last": "1"} if page.next_cursor else None,
    }
