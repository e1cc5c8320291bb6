"""The campaign list's sort orders are kept with it and, after one location's sync, spliced (kept_orders.py)
instead of sorted again; agency-wide answers are built without the cyclic collector (performance_memo.py).
Whatever the path, the list equals the one computed afresh: campaigns, figures, orders, filters, pages."""

from __future__ import annotations

import gc
import random
import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.selectors import campaigns, kept_orders, performance_memo
from dashboard.selectors.kept_orders import Order
from dashboard.selectors.performance_memo import built_quietly, memo_clear
from integrations.data_versions import TAGS, versions_move
from integrations.models import Location, Post
from tests.dashboard.browsing_factories import location_make, post_make, tag_make

START, END = date(2026, 3, 1), date(2026, 3, 31)
SORTS = [direction + key for key in campaigns.SORTS for direction in ("", "-")]


def at(day: int) -> datetime:
    return datetime(2026, 3, day, 12, tzinfo=UTC)


@dataclass
class Row:
    slug: str
    name: str
    figure: float | None

    def value(self, key: str):
        return self.name.casefold() if key == "name" else self.figure


def test_a_spliced_order_equals_the_order_sorted_afresh():
    rng = random.Random(7)
    for _ in range(30):
        rows = {f"s{n}": Row(f"s{n}", rng.choice(("Sale", "sale", "Tips", "Zed", "ale")), rng.choice(
            (None, 0, 1, 2.5, 2.5, 7))) for n in range(rng.randrange(0, 60))}
        for key in ("figure", "name"):
            before = Order.of(rows.values(), key)
            changed = dict(rows)
            gone = [changed.pop(slug) for slug in rng.sample(sorted(rows), min(len(rows), rng.randrange(0, 8)))]
            came = [Row(f"s{n}", rng.choice(("Sale", "Brand New", "tips")), rng.choice((None, 1, 3, 2.5)))
                    for n in range(rng.randrange(0, 8)) if f"s{n}" not in changed]
            changed.update((row.slug, row) for row in came)
            spliced = before.spliced(key, gone=gone, came=came)
            fresh = Order.of(changed.values(), key)
            assert spliced == fresh
            for descending in (False, True):
                assert [r.slug for r in spliced.listed(descending=descending)] == [
                    r.slug for r in fresh.listed(descending=descending)]


def test_the_order_is_the_lists_order_with_ties_broken_by_slug():
    rows = [Row("b", "Same", 2), Row("a", "Same", 2), Row("c", "Other", None), Row("d", "Alpha", 5)]
    order = Order.of(rows, "figure")
    assert [r.slug for r in order.listed(descending=True)] == ["d", "b", "a", "c"]
    assert [r.slug for r in order.listed(descending=False)] == ["a", "b", "d", "c"]


def test_a_splice_that_does_not_fit_the_order_answers_none():
    order = Order.of([Row("a", "A", 1)], "figure")
    assert order.spliced("figure", gone=[Row("x", "X", 1)], came=[]) is None
    assert order.spliced("figure", gone=[], came=[Row("a", "A", 1)]) is None


@pytest.fixture
def agency(db):
    for n in range(4):
        loc = location_make(f"loc-{n}", f"Client {n}", tz="UTC")
        for k, name in enumerate(("Summer Sale", "Tips", f"Only Here {n}", f"Local {n} {n % 2}", "Menu")):
            tag_make(loc, name if n != 2 else name.upper(), tag_id=f"t{n}-{k}")
            post_make(loc, f"p{n}-{k}", tag_ids=[f"t{n}-{k}"], when=at(2 + k), likes=(n * 7 + k * 3) % 11,
                      comments=k % 2, shares=0)
        post_make(loc, f"plain-{n}", tag_ids=[], when=at(3), likes=4, comments=0, shares=0)
        post_make(loc, f"old-{n}", tag_ids=[f"t{n}-1"], when=datetime(2026, 2, 10, tzinfo=UTC), likes=n,
                  comments=0, shares=0)
    return list(Location.objects.order_by("name", "pk"))


def every_listing(locations) -> dict:
    found = {}
    for sort in SORTS:
        for q, min_locations in (("", 1), ("sale", 1), ("", 2)):
            rows = campaigns.campaigns_list(locations=locations, start=START, end=END, q=q, sort=sort,
                                            min_locations=min_locations)
            found[sort, q, min_locations] = [c.as_dict(with_locations=True) for c in rows]
    return found


def test_after_one_location_s_sync_the_orders_are_spliced_and_the_list_equals_a_fresh_one(agency, monkeypatch):
    every_listing(agency)  # every order asked, and kept
    second = agency[1]
    Post.objects.filter(location=second, post_id="p1-2").delete()  # its own campaign goes
    tag_make(second, "Brand New", tag_id="new-1")  # a campaign comes
    post_make(second, "n1", tag_ids=["new-1"], when=at(9), likes=50, comments=0, shares=0)
    post_make(second, "m1", tag_ids=["t1-4"], when=at(10), likes=9, comments=1, shares=1)  # one moves up
    versions_move(second.pk, TAGS)
    monkeypatch.setattr(kept_orders.Order, "of", classmethod(lambda cls, rows, key: pytest.fail("sorted again")))
    spliced = every_listing(agency)
    monkeypatch.undo()
    memo_clear()
    assert spliced == every_listing(agency)
    slugs = {row["slug"] for row in spliced["-engagement", "", 1]}
    assert "brandnew" in slugs and "onlyhere1" not in slugs


def test_the_list_s_first_view_after_a_sync_reads_as_many_queries_at_any_number_of_locations(agency):
    def queries(locations) -> int:
        campaigns.campaigns_list(locations=locations, start=START, end=END)
        versions_move(locations[0].pk, TAGS)
        with CaptureQueriesContext(connection) as ctx:
            campaigns.campaigns_list(locations=locations, start=START, end=END)
        return len(ctx.captured_queries)

    assert queries(agency[:2]) == queries(agency)


def test_agency_answers_are_built_without_the_cyclic_collector_and_frozen_after(agency, monkeypatch):
    seen = []
    real = campaigns._parts

    def spy(**kwargs):
        seen.append(gc.isenabled())
        return real(**kwargs)

    monkeypatch.setattr(campaigns, "_parts", spy)
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    campaigns.campaigns_collect(locations=agency[:2], start=START, end=END)  # a small build: left to the collector
    assert seen == [False] and gc.isenabled() and gc.get_freeze_count() == frozen
    monkeypatch.setattr(performance_memo, "FREEZE_FROM", 0)  # as if it were an agency's
    kept = campaigns.campaigns_collect(locations=agency, start=START, end=END)
    assert seen == [False, False] and gc.isenabled()
    assert gc.get_freeze_count() > frozen
    assert kept["summersale"].location_count == 4


def test_built_quietly_nests_survives_errors_and_leaves_a_collector_that_was_off_off():
    with built_quietly():
        with built_quietly():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), built_quietly():
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with built_quietly():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_list_kept_under_versions_a_sync_moved_on_is_let_go(agency):
    """A version never comes back: the list kept under the old ones would only be traversed by the garbage
    collector (dicts of every campaign) until the memo's turn came to drop it."""
    first = weakref.ref(campaigns.campaigns_collect(locations=agency, start=START, end=END))
    assert first() is not None
    versions_move(agency[1].pk, TAGS)
    again = campaigns.campaigns_collect(locations=agency, start=START, end=END)
    assert first() is None
    assert campaigns.campaigns_collect(locations=agency, start=START, end=END) is again
