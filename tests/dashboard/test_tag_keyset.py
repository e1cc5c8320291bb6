"""Keyset pages of the tag list: under every sort and status, with ties on every key and null update times,
walking next (or previous) links visits each row once, in the list's own order, also when tags are added
between pages; damaged cursors are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models.expressions import OrderBy
from django.utils import timezone

from dashboard.selectors.tag_keyset import BadCursor, cursor_decode, cursor_encode, keyset_page
from dashboard.selectors.tags import SORTS, STATUSES, TagFilter, tags_for_location
from integrations.models import Tag
from tests.dashboard.browsing_factories import location_make

pytestmark = pytest.mark.django_db


def tied_tags(location, count: int, *, prefix: str = "t") -> None:
    now = timezone.now()
    names = ["Alpha", "alpha", "Beta", "gamma", "Gamma"]
    Tag.objects.bulk_create([Tag(
        location=location, tag_id=f"{prefix}{n}", name=names[n % 5], sort_name=names[n % 5].casefold(),
        updated_at=None if n % 4 == 0 else now - timedelta(hours=n % 3),
        first_seen_at=now - timedelta(days=1 if n % 2 else 30), last_seen_at=now,
        removed_at=now if n % 7 == 0 else None, is_baseline=n % 3 == 0) for n in range(count)])


def walk(tags, sort: str, *, backwards: bool = False, between=None) -> list[int]:
    seen, page = [], keyset_page(tags, sort=sort, size=4, last=backwards)
    while True:
        seen = page.rows + seen if backwards else seen + page.rows
        cursor = page.prev_cursor if backwards else page.next_cursor
        if cursor is None:
            return [t.pk for t in seen]
        if between:
            between()
        decoded = cursor_decode(cursor, sort)
        page = keyset_page(tags, sort=sort, size=4, **({"before": decoded} if backwards else {"after": decoded}))


@pytest.mark.parametrize("status", list(STATUSES))
@pytest.mark.parametrize("sort", list(SORTS))
def test_next_and_previous_visit_every_row_once_in_order(sort, status):
    location = location_make("loc-a", "Acme")
    tied_tags(location, 45)
    tied_tags(location_make("loc-b", "Other"), 10)
    tags = tags_for_location(location=location, filters=TagFilter(sort=sort, status=status))
    expected = list(tags.values_list("pk", flat=True))
    assert expected and walk(tags, sort) == expected
    assert walk(tags, sort, backwards=True) == expected


@pytest.mark.parametrize("sort", list(SORTS))
def test_tags_added_between_pages_neither_repeat_nor_hide_the_others(sort):
    location = location_make("loc-a", "Acme")
    tied_tags(location, 30)
    tags = tags_for_location(location=location, filters=TagFilter(sort=sort))
    before = set(tags.values_list("pk", flat=True))
    added = iter(range(100))

    def add():
        tied_tags(location, 1, prefix=f"new{next(added)}-")

    visited = walk(tags, sort, between=add)
    assert len(visited) == len(set(visited)) and before <= set(visited)


def test_a_search_pages_through_its_matches(db):
    location = location_make("loc-a", "Acme")
    tied_tags(location, 40)
    tags = tags_for_location(location=location, filters=TagFilter(q="lph", sort="-updated_at"))
    assert walk(tags, "-updated_at") == list(tags.values_list("pk", flat=True)) and len(walk(tags, "-updated_at")) == 16


def test_a_cursor_is_bound_to_its_sort_and_refused_when_damaged(db):
    location = location_make("loc-a", "Acme")
    tied_tags(location, 3)
    tag = Tag.objects.get(tag_id="t1")
    assert cursor_decode(cursor_encode("-updated_at", tag), "-updated_at").value == tag.updated_at
    for token, sort in ((cursor_encode("name", tag), "-name"), ("%%%", "name"), ("WzEsMiwzXQ", "name"),
                        (cursor_encode("updated_at", Tag.objects.get(tag_id="t0")), "updated_at")):
        if sort == "updated_at":  # a null update time is a real place in that order
            assert cursor_decode(token, sort).value is None
            continue
        with pytest.raises(BadCursor):
            cursor_decode(token, sort)


@pytest.mark.parametrize("sort", list(SORTS))
def test_many_new_tags_walk_the_sort_index_in_the_same_order(sort, monkeypatch):
    location = location_make("loc-a", "Acme")
    tied_tags(location, 45)
    few = list(tags_for_location(location=location, filters=TagFilter(sort=sort, status="new")).values_list(
        "pk", flat=True))
    monkeypatch.setattr("dashboard.selectors.tags.NEW_SORTED_LIMIT", 2)  # "many" new tags
    tags = tags_for_location(location=location, filters=TagFilter(sort=sort, status="new"))
    assert not isinstance(tags.query.order_by[0], OrderBy)  # the plain sort index
    assert walk(tags, sort) == few and len(few) > 2
