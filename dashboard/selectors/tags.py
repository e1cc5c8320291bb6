"""What the tag pages and the tag API read: one location's tags filtered, sorted and paged; one tag in full.

"New" is the model's rule (`Tag.is_new`, `Tag.objects.new()`, integrations/models/mirror.py), used by the
overview, the `status=new` filter, the "new" badge and the API's `is_new`.

Pages are keyset pages (dashboard/selectors/tag_keyset.py): a page's ids are read from the (location, sort
key, id) index after the previous page's last key, then only those rows are loaded; the total comes from
counts the sync stores (`tags_total`). Old `page=` numbers still work (OFFSET over the same index).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import OrderBy
from django.shortcuts import get_object_or_404

from dashboard.params import Params
from dashboard.selectors.tag_keyset import KeysetPage, Window
from integrations.models import Event, Location, Tag, TagPost
from integrations.models.mirror import unindexed
from integrations.tag_search import MIN_LENGTH

SORTS: dict[str, tuple[str, str]] = {
    "name": ("sort_name", "id"), "-name": ("-sort_name", "-id"),
    "updated_at": ("updated_at", "id"), "-updated_at": ("-updated_at", "-id"),
    "first_seen_at": ("first_seen_at", "id"), "-first_seen_at": ("-first_seen_at", "-id"),
}
SORT_LABELS = {"name": "Name (A to Z)", "-name": "Name (Z to A)", "-updated_at": "Updated in HighLevel (newest)",
               "updated_at": "Updated in HighLevel (oldest)", "-first_seen_at": "First seen (newest)",
               "first_seen_at": "First seen (oldest)"}
STATUSES = {"": "Any status", "active": "Active", "new": "New", "removed": "Removed"}
HISTORY_LIMIT = 200
POSTS_LIMIT = 200


@dataclass(frozen=True)
class TagFilter:
    q: str = ""
    sort: str = "name"
    status: str = ""

    @classmethod
    def from_query(cls, params: Params) -> TagFilter:
        """Read q, sort and status; unknown values fail as `params` says (400 on the API, ignored on pages)."""
        return cls(q=params.text("q"), sort=params.choice("sort", SORTS, default="name"),
                   status=params.choice("status", STATUSES, default=""))

    def as_query(self) -> dict[str, str]:
        """The non-default values, for links that keep the state."""
        return {k: v for k, v in (("q", self.q), ("sort", self.sort), ("status", self.status))
                if v and not (k == "sort" and v == "name")}


def tags_for_location(*, location: Location, filters: TagFilter, now: datetime | None = None) -> QuerySet[Tag]:
    tags = Tag.objects.all()
    ordering: tuple[Any, ...] = SORTS[filters.sort]
    if filters.status == "active":
        tags = tags.filter(removed_at__isnull=True)
    elif filters.status == "removed":
        tags = tags.filter(removed_at__isnull=False)
    elif filters.status == "new":
        few = few_new(tags.new(now).filter(location=location))
        # Few new tags are found by the status index; ordering by an expression keeps SQLite from walking
        # a whole sort index of the location for them instead, and then sorts the few. Many (a big first
        # import) are found fastest by walking the sort index itself (and PostgreSQL must be kept from
        # the status index then, see `new`).
        tags = tags.new(now, by_status_index=few)
        if few:
            ordering = tuple(unindexed(ordering))
    tags = tags.order_by(*ordering)
    if filters.q:
        return tags.search(filters.q, location_pk=location.pk)
    return tags.filter(location=location)


NEW_SORTED_LIMIT = 5_000
# A search of 1 or 2 characters (no trigram index serves it) reads at most this many tags per page, in the
# list's order, where reading all took 400 ms for a rare needle at 1,000,000 tags (bench/million.py); a
# common one fills its page long before. Its next page reads on from where this one stopped. By name with
# no status filter the (location, name, id) index alone answers; any other order or a status filter reads
# each row from the table too (about 10 times the cost per row), so it reads fewer.
SHORT_SEARCH_ROWS = 50_000
SHORT_SEARCH_ROWS_FROM_TABLE = 10_000


def short_search(filters: TagFilter) -> bool:
    return 0 < len(filters.q.casefold()) < MIN_LENGTH


def search_window(location: Location, filters: TagFilter, now: datetime | None = None) -> Window | None:
    """The bound on a short search's reading (tag_keyset.Window); None for any other list."""
    by_index_alone = filters.sort in ("name", "-name") and not filters.status
    rows = SHORT_SEARCH_ROWS if by_index_alone else SHORT_SEARCH_ROWS_FROM_TABLE
    stored = (location.tag_count_active or 0) + (location.tag_count_removed or 0)
    if not short_search(filters) or (location.tag_count_active is not None and stored <= rows):
        return None  # a location the sync counted as small is read whole, as before
    return Window(tags_for_location(location=location, filters=replace(filters, q=""), now=now), rows)


def few_new(new_tags: QuerySet[Tag]) -> bool:
    """Whether a location's new tags are few enough to read them all and sort them (an index-only probe)."""
    return new_tags.order_by().values("pk")[:NEW_SORTED_LIMIT + 1].count() <= NEW_SORTED_LIMIT


def whole_page(page: KeysetPage) -> int | None:
    """The number of rows of the list when this keyset page knows it: it is all there is (first and last at
    once), or its query counted them (`KeysetPage.total`)."""
    if page.total is not None:
        return page.total
    return len(page.rows) if page.at_start and page.next_cursor is None else None


class TagPage:
    """Sliceable like a queryset (for the API's `page=` numbers, kept for old clients): ids from the index,
    then just those rows. Deep numbers cost an OFFSET; the keyset pages (tag_keyset.py) do not."""

    def __init__(self, tags: QuerySet[Tag]):
        self.tags = tags

    def count(self) -> int:
        return self.tags.count()

    def __getitem__(self, window: slice) -> list[Tag]:
        ids = list(self.tags.values_list("pk", flat=True)[window])
        rows = Tag.objects.in_bulk(ids)
        return [rows[pk] for pk in ids]


SEARCH_COUNT_CAP = 200


def tags_total(location: Location, filters: TagFilter, tags: QuerySet[Tag], *, whole: int | None = None,
               shown: int | None = None) -> tuple[int, bool]:
    """(count, exact) of what the list shows, without counting a million rows per request: the counts the
    sync stored on the location for all, active and removed tags (integrations/tag_counts.py); a live
    COUNT for "new" (few, found by the status index) and before the first sync; a search counts at most
    SEARCH_COUNT_CAP matches and then says "more than"; a short search on keyset pages (`shown`: the rows
    of its page) counts nothing (at least what it shows). `whole`: the size of a page known to hold everything."""
    if whole is not None:  # one page held every match: nothing to count
        return whole, True
    if shown is not None and short_search(filters):  # counting would read every tag, which the window avoids
        return shown, False
    if filters.q:
        # A walked search is counted along the list's own order, which the page has just walked (its index
        # is warm and its matches come as often as the page found them): unordered, SQLite counted along the
        # name index, where `er-t` matches nothing before the "offer-t…" names, 270,000 rows in
        # (bench/million.py). A narrowed one (ordered by an expression) stops at the cap unordered, where
        # its order would read and sort every match.
        counted = tags.order_by() if isinstance(tags.query.order_by[0], OrderBy) else tags
        found = counted.values("pk")[:SEARCH_COUNT_CAP + 1].count()
        return min(found, SEARCH_COUNT_CAP), found <= SEARCH_COUNT_CAP
    active, removed = location.tag_count_active, location.tag_count_removed
    if active is not None and removed is not None and filters.status in ("", "active", "removed"):
        return {"": active + removed, "active": active, "removed": removed}[filters.status], True
    if filters.status == "new":  # counted from the status index (the list itself may be kept off it)
        return Tag.objects.new().filter(location=location).count(), True
    return tags.count(), True


def tag_row(tag: Tag, now: datetime) -> dict[str, Any]:
    """What a row of the tag list shows, formatted once here (template date filters cost ~0.2 ms each)."""

    def stamp(value: datetime | None) -> tuple[str, str] | None:
        return (value.isoformat(), value.strftime("%Y-%m-%d %H:%M")) if value else None

    return {"tag_id": tag.tag_id, "name": tag.name, "is_new": tag.is_new(now), "updated": stamp(tag.updated_at),
            "first_seen": stamp(tag.first_seen_at), "removed": stamp(tag.removed_at)}


def tag_as_dict(tag: Tag, now: datetime | None = None) -> dict[str, Any]:
    """A tag as the API answers it."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"id": tag.tag_id, "name": tag.name, "created_at": iso(tag.created_at), "updated_at": iso(tag.updated_at),
            "first_seen_at": iso(tag.first_seen_at), "removed_at": iso(tag.removed_at),
            "is_new": tag.is_new(now)}


def tag_get(*, location: Location, tag_id: str) -> Tag:
    return get_object_or_404(Tag.objects.select_related("detail"), location=location, tag_id=tag_id)


def tag_details(tag: Tag) -> dict[str, Any]:
    detail = getattr(tag, "detail", None)
    return detail.data if detail is not None else {}


def _label(key: str) -> str:
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in key.lstrip("_")).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:] if spaced else key


def detail_fields(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Everything HighLevel answered as (label, text): nested objects flattened as "Parent > child", lists joined."""
    if not isinstance(data, dict):
        return [(prefix or "Value", _text(data))]
    fields: list[tuple[str, str]] = []
    for key, value in data.items():
        label = f"{prefix} > {_label(key)}" if prefix else _label(key)
        if isinstance(value, dict) and value:
            fields.extend(detail_fields(value, label))
        else:
            fields.append((label, _text(value)))
    return fields


def _text(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_text(v) if not isinstance(v, dict) else ", ".join(f"{k}: {_text(x)}" for k, x in v.items())
                         for v in value)
    return str(value)


def tag_history(*, location: Location, tag: Tag) -> list[Event]:
    return list(Event.objects.filter(location=location, subject_id=tag.tag_id, type__startswith="tag")
                .order_by("-id")[:HISTORY_LIMIT])


def tag_posts(*, location: Location, tag: Tag) -> list[Any]:
    links = (TagPost.objects.filter(location=location, tag_id=tag.tag_id).select_related("post")
             .order_by("-post__display_date", "-post_id")[:POSTS_LIMIT])
    return [link.post for link in links]
