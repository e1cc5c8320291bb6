"""An agency's campaigns are kept per location: after one location's posts change, only that location is summed
again, and the list still equals what a fresh computation gives."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dashboard.selectors import campaigns
from dashboard.selectors.performance_memo import memo_clear
from tests.dashboard.browsing_factories import location_make, post_make, tag_make

pytestmark = pytest.mark.django_db
START, END = date(2026, 3, 1), date(2026, 3, 31)


def at(day: int) -> datetime:
    return datetime(2026, 3, day, 12, tzinfo=UTC)


@pytest.fixture
def agency():
    locations = []
    for n, likes in ((1, 10), (2, 20), (3, 30)):
        loc = location_make(f"loc-{n}", f"Client {n}", tz="UTC")
        tag_make(loc, "Summer Sale", tag_id=f"sale-{n}")
        post_make(loc, f"p{n}", tag_ids=[f"sale-{n}"], when=at(2), likes=likes, comments=0, shares=0)
        post_make(loc, f"q{n}", tag_ids=[], when=at(3), likes=5, comments=0, shares=0)
        locations.append(loc)
    return locations


def figures(found: dict) -> dict:
    return {slug: (c.sums.published, c.sums.engagement, c.location_count, c.lift_pct) for slug, c in found.items()}


def test_after_one_location_changes_only_it_is_summed_again(agency, monkeypatch):
    summed: list[list[str]] = []
    real = campaigns._parts

    def spy(**kwargs):
        summed.append(sorted(loc.location_id for loc in kwargs["locations"]))
        return real(**kwargs)

    monkeypatch.setattr(campaigns, "_parts", spy)
    first = campaigns.campaigns_collect(locations=agency, start=START, end=END)
    assert figures(first) == {"summersale": (3, 60, 3, pytest.approx(300.0))}
    assert campaigns.campaigns_collect(locations=agency, start=START, end=END) is first  # kept whole
    post_make(agency[1], "p2-more", tag_ids=["sale-2"], when=at(4), likes=40, comments=0, shares=0)
    again = campaigns.campaigns_collect(locations=agency, start=START, end=END)
    assert summed == [["loc-1", "loc-2", "loc-3"], ["loc-2"]]
    assert figures(again) == {"summersale": (4, 100, 3, pytest.approx(400.0))}
    memo_clear()
    assert figures(campaigns.campaigns_collect(locations=agency, start=START, end=END)) == figures(again)


def test_one_campaign_s_page_comes_from_the_kept_list_or_from_its_own_tags(agency, monkeypatch):
    tag_make(agency[0], "Tips", tag_id="tips-1")
    post_make(agency[0], "t1", tag_ids=["tips-1"], when=at(5), likes=3, comments=0, shares=0)
    alone = campaigns.campaigns_collect(locations=agency, start=START, end=END, only="summersale")
    assert list(alone) == ["summersale"] and alone["summersale"].location_count == 3
    everyone = campaigns.campaigns_collect(locations=agency, start=START, end=END)
    monkeypatch.setattr(campaigns, "_parts", lambda **kwargs: pytest.fail("summed again"))
    kept = campaigns.campaigns_collect(locations=agency, start=START, end=END, only="tips")
    assert kept["tips"] is everyone["tips"]
    assert campaigns.campaigns_collect(locations=agency, start=START, end=END, only="nothing") == {}


def listing(found: dict) -> list[dict]:
    return [c.as_dict(with_locations=True) for c in sorted(found.values(), key=lambda c: c.slug)]


def test_after_a_sync_only_the_campaigns_it_touches_are_added_up_again_and_the_list_equals_a_fresh_one(agency):
    """The list merged again from the kept one (`_merged_again`) equals the list merged from scratch: a campaign
    that gains a location, one that loses its only posts, one that appears, a spelling that merges, and
    campaigns the sync did not touch, which stay the very same objects."""
    for n, loc in enumerate(agency):
        tag_make(loc, f"Only Here {n}", tag_id=f"only-{n}")
        post_make(loc, f"o{n}", tag_ids=[f"only-{n}"], when=at(6), likes=n, comments=1, shares=0)
    tag_make(agency[0], "Tips", tag_id="tips-1")
    post_make(agency[0], "t1", tag_ids=["tips-1"], when=at(5), likes=3, comments=0, shares=0)
    before = campaigns.campaigns_collect(locations=agency, start=START, end=END)
    assert {"summersale", "tips", "onlyhere0", "onlyhere1", "onlyhere2"} <= set(before)
    # One location's sync: "Tips" reaches it, its own campaign loses its post, a new one and a new spelling.
    second = agency[1]
    tag_make(second, "Tips", tag_id="tips-2")
    post_make(second, "t2", tag_ids=["tips-2"], when=at(7), likes=4, comments=0, shares=0)
    from integrations.models import Post
    Post.objects.filter(location=second, post_id="o1").delete()
    tag_make(second, "Brand New", tag_id="new-2")
    post_make(second, "n2", tag_ids=["new-2"], when=at(8), likes=1, comments=0, shares=0)
    tag_make(second, "SUMMER SALE", tag_id="sale-2b")
    post_make(second, "s2b", tag_ids=["sale-2b"], when=at(9), likes=2, comments=0, shares=0)
    again = campaigns.campaigns_collect(locations=agency, start=START, end=END)
    assert "onlyhere1" not in again and again["tips"].location_count == 2 and "brandnew" in again
    assert again["onlyhere0"] is before["onlyhere0"] and again["onlyhere2"] is before["onlyhere2"]
    assert again["summersale"].names == {"Summer Sale": 3, "SUMMER SALE": 1}
    memo_clear()
    fresh = campaigns.campaigns_collect(locations=agency, start=START, end=END)
    assert listing(again) == listing(fresh)
    assert [c.slug for c in again.ordered("-engagement")] == [c.slug for c in fresh.ordered("-engagement")]
    # A location no longer visible: its campaigns are added up again without it.
    fewer = campaigns.campaigns_collect(locations=[agency[0], agency[2]], start=START, end=END)
    memo_clear()
    assert listing(fewer) == listing(campaigns.campaigns_collect(locations=[agency[0], agency[2]], start=START,
                                                                 end=END))
