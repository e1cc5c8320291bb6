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
from django.db.models import Count, Q, QuerySet
from django.db.models import Window as Over
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
    return _encode(sort, getattr(tag, key_field(sort)), tag.pk)


def _encode(sort: str, value: Any, pk: int) -> str:
    raw = json.dumps([sort, value.isoformat() if isinstance(value, datetime) else value, pk], separators=(",", ":"))
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
    cut: bool = False  # a bounded scan (`Window`) stopped before the page was full: more may match beyond
    total: int | None = None  # every row of the list, when the page's own query could count them for free


@dataclass(frozen=True)
class Window:
    """A search no index can narrow (a needle of 1 or 2 characters) reads at most `rows` rows of the list
    per page, in the list's order, and stops there; the page then ends where the reading stopped, and its
    next link reads on from that row. `everything`: the same list without the search (what is read)."""

    everything: QuerySet[Tag]
    rows: int


def _seek_key(tags: QuerySet[Tag]) -> tuple[QuerySet[Tag], str]:
    """The queryset and the name to compare on: the ordering's own first term (a field, an annotation, or
    an expression the selector chose for the planner's sake), so the filter matches the index the order uses."""
    first = tags.query.order_by[0]
    if isinstance(first, OrderBy):
        return tags.alias(_seek=first.expression), "_seek"
    return tags, first.lstrip("-")


def _segments(tags: QuerySet[Tag], key: str, cursor: Cursor | None, *, ascending: bool, nullable: str,
              nulls_largest: bool) -> list[QuerySet[Tag]]:
    """The rows beyond `cursor` in the scan order, as index ranges read one after the other. `nullable`:
    the column whose nulls form a segment of their own ("" when it has none). Nulls are tested on the
    column itself, never on the order's expression (null exactly when it is): an index answers
    `updated_at IS NULL` at once, where a test on the expression made PostgreSQL read every match of a
    search again to find none."""
    nulls_at_end = ascending == nulls_largest
    beyond = "gt" if ascending else "lt"
    if cursor is None:
        if not nullable:
            return [tags]
        present, absent = tags.filter(**{f"{nullable}__isnull": False}), tags.filter(**{f"{nullable}__isnull": True})
        return [present, absent] if nulls_at_end else [absent, present]
    if cursor.value is None:
        nulls = tags.filter(**{f"{nullable}__isnull": True, f"pk__{beyond}": cursor.pk})
        return [nulls] if nulls_at_end else [nulls, tags.filter(**{f"{nullable}__isnull": False})]
    # `key >= v AND (key > v OR pk > id)`: the first term is the index range, the second drops the ties before.
    ranged = tags.filter(**{f"{key}__{beyond}e": cursor.value}).filter(
        Q(**{f"{key}__{beyond}": cursor.value}) | Q(**{f"pk__{beyond}": cursor.pk}))
    return [ranged, tags.filter(**{f"{nullable}__isnull": True})] if nullable and nulls_at_end else [ranged]


def _ids(tags: QuerySet[Tag], cursor: Cursor | None, *, sort: str, backwards: bool, limit: int,
         window: Window | None = None) -> tuple[list[int], Cursor | None, int | None]:
    """Up to `limit` ids beyond `cursor` in the scan order; when `window` cut the reading short, the last
    row read (the page ends there); and the number of rows in the list when it came for free: an order
    by an expression (a search the trigram index narrowed, few new tags) reads and sorts every match
    anyway, so on a first or last page a COUNT(*) OVER () in the same query counts them (a separate count
    made PostgreSQL search its trigram index a second time), and it reads the list whole, not as a segment
    of nulls and one of the rest (SQLite searched its FTS5 table once per segment)."""
    counting = isinstance(tags.query.order_by[0], OrderBy) and cursor is None and window is None
    total = 0
    ascending = not sort.startswith("-") if not backwards else sort.startswith("-")
    nulls_largest = connections[tags.db].vendor == "postgresql"
    field = key_field(sort)
    nullable = field if field in NULLABLE else ""

    def segments(queryset: QuerySet[Tag]) -> tuple[list[QuerySet[Tag]], str]:
        scan, key = _seek_key(queryset.reverse() if backwards else queryset)
        return _segments(scan, key, cursor, ascending=ascending, nullable=nullable, nulls_largest=nulls_largest), key

    ids: list[int] = []
    read = segments(window.everything)[0] if window else []
    found, key = segments(tags)
    if counting:  # the whole list in one query: its order puts the nulls where the segments would
        found = [tags.reverse() if backwards else tags]
    for index, segment in enumerate(found):
        stop = None
        if window:
            # The window's last row, if the segment goes on past it: its `rows`-th (an index-only walk).
            edge = list(read[index].values_list(field, "pk")[window.rows - 1: window.rows + 1])
            if len(edge) > 1:
                stop = Cursor(sort, *edge[0])
                segment = _up_to(segment, key, stop, ascending=ascending)
        if counting:
            rows = list(segment.annotate(_total=Over(Count("pk"))).values_list("pk", "_total")[
                : max(limit - len(ids), 1)])
            total += rows[0][1] if rows else 0
            ids.extend(pk for pk, _ in rows[: limit - len(ids)])
            continue
        ids.extend(segment.values_list("pk", flat=True)[: limit - len(ids)])
        if len(ids) >= limit:
            return ids, None, None
        if stop is not None:
            return ids, stop, None
    return ids, None, total if counting else None


def _up_to(tags: QuerySet[Tag], key: str, stop: Cursor, *, ascending: bool) -> QuerySet[Tag]:
    """The rows of `tags` (one segment, in scan order, compared on `key`) up to and including `stop`'s row."""
    within = "lt" if ascending else "gt"
    if stop.value is None:
        return tags.filter(**{f"pk__{within}e": stop.pk})
    return tags.filter(**{f"{key}__{within}e": stop.value}).filter(
        Q(**{f"{key}__{within}": stop.value}) | Q(**{f"pk__{within}e": stop.pk}))


def keyset_page(tags: QuerySet[Tag], *, sort: str, size: int, after: Cursor | None = None,
                before: Cursor | None = None, last: bool = False, window: Window | None = None) -> KeysetPage:
    """One page of `tags` (ordered by `tag_ordering(sort)`): the first, the one after `after`, the one
    before `before`, or the last. Reads size + 1 ids to know whether more lie beyond, then just those rows.
    With `window`, reads at most that many rows of the list (see `Window`)."""
    backwards = before is not None or last
    ids, stop, total = _ids(tags, before if backwards else after, sort=sort, backwards=backwards, limit=size + 1,
                            window=window)
    more = len(ids) > size
    ids = ids[:size]
    if backwards:
        ids.reverse()
    found = Tag.objects.in_bulk(ids)
    rows = [found[pk] for pk in ids if pk in found]
    beyond = _encode(sort, stop.value, stop.pk) if stop else None  # where a cut reading goes on
    if not rows:
        return KeysetPage([], beyond if not backwards else None, beyond if backwards else None,
                          at_start=not backwards and after is None, cut=stop is not None, total=total)
    has_next = (not backwards and (more or stop is not None)) or (before is not None)
    has_prev = (backwards and (more or stop is not None)) or (after is not None)
    next_cursor = (beyond if stop and not backwards else cursor_encode(sort, rows[-1])) if has_next else None
    prev_cursor = (beyond if stop and backwards else cursor_encode(sort, rows[0])) if has_prev else None
    return KeysetPage(rows, next_cursor, prev_cursor, at_start=not has_prev, cut=stop is not None, total=total)


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
