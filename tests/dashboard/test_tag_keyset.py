"""Keyset pages of the tag list: under every sort and status, with ties on every key and null update times,
walking next (or previous) links visits each row once, in the list's own order, also when tags are added
between pages; damaged cursors are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models.expressions import OrderBy
from django.utils import timezone

from dashboard.selectors.tag_keyset import BadCursor, Window, cursor_decode, cursor_encode, keyset_page
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


def walk(tags, sort: str, *, backwards: bool = False, between=None, window=None, pages=None) -> list[int]:
    seen, page = [], keyset_page(tags, sort=sort, size=4, last=backwards, window=window)
    while True:
        if pages is not None:
            pages.append(page)
        seen = page.rows + seen if backwards else seen + page.rows
        cursor = page.prev_cursor if backwards else page.next_cursor
        if cursor is None:
            return [t.pk for t in seen]
        if between:
            between()
        decoded = cursor_decode(cursor, sort)
        page = keyset_page(tags, sort=sort, size=4, window=window,
                           **({"before": decoded} if backwards else {"after": decoded}))


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


@pytest.mark.parametrize("status", ["", "removed"])
@pytest.mark.parametrize("sort", list(SORTS))
def test_a_short_search_reads_a_window_per_page_and_still_visits_every_match_once_in_order(sort, status):
    location = location_make("loc-a", "Acme")
    tied_tags(location, 60)
    tied_tags(location_make("loc-b", "Other"), 10)
    tags = tags_for_location(location=location, filters=TagFilter(q="PH", sort=sort, status=status))  # "alpha"
    everything = tags_for_location(location=location, filters=TagFilter(sort=sort, status=status))
    expected = list(tags.values_list("pk", flat=True))
    assert expected == [pk for pk, name in everything.values_list("pk", "sort_name") if "ph" in name]
    for backwards in (False, True):
        pages = []
        assert walk(tags, sort, backwards=backwards, window=Window(everything, 5), pages=pages) == expected
        assert any(page.cut for page in pages)
        # a page reads at most 5 rows (two ranges for a nullable sort: 10), so there are at least this many
        assert len(pages) >= everything.count() // (10 if sort.endswith("updated_at") else 5)


def test_a_window_larger_than_the_list_is_one_plain_page(db):
    location = location_make("loc-a", "Acme")
    tied_tags(location, 10)
    tags = tags_for_location(location=location, filters=TagFilter(q="ph"))
    page = keyset_page(tags, sort="name", size=50, window=Window(tags_for_location(
        location=location, filters=TagFilter()), 10))
    assert not page.cut and page.next_cursor is None and [t.pk for t in page.rows] == list(
        tags.values_list("pk", flat=True))


def test_a_window_with_no_match_is_an_empty_page_that_reads_on(db):
    location = location_make("loc-a", "Acme")
    tied_tags(location, 60)  # by name: 24 alphas, then 12 betas, then 24 gammas
    tags = tags_for_location(location=location, filters=TagFilter(q="ta"))
    page = keyset_page(tags, sort="name", size=50, window=Window(tags_for_location(
        location=location, filters=TagFilter()), 10))
    assert page.rows == [] and page.cut and page.next_cursor
    assert cursor_decode(page.next_cursor, "name").value == "alpha"  # read on after the 10th row
    pages = []
    assert walk(tags, "name", window=Window(tags_for_location(location=location, filters=TagFilter()), 10),
                pages=pages) == list(tags.values_list("pk", flat=True))
    assert [bool(p.rows) for p in pages][:3] == [False, False, True]
