"""A post carrying two spellings of one campaign (or an alias and its campaign) counts once in the campaign's
totals, in its location's row, and in the previous period; the baseline stays the posts without the campaign."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dashboard.models import CampaignAlias
from dashboard.selectors.campaigns import campaigns_collect
from tests.dashboard.browsing_factories import location_make, post_make, tag_make

pytestmark = pytest.mark.django_db
START, END = date(2026, 3, 1), date(2026, 3, 31)


def at(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


@pytest.fixture
def loc():
    location = location_make("loc-o", "Overlap", tz="UTC")
    tag_make(location, "Spring Sale", tag_id="upper")
    tag_make(location, "spring sale", tag_id="lower")
    tag_make(location, "Easter Deals", tag_id="easter")
    post_make(location, "both", tag_ids=["upper", "lower"], when=at(2), likes=10, comments=2, shares=0)
    post_make(location, "upper-only", tag_ids=["upper"], when=at(3), likes=4, comments=0, shares=0)
    post_make(location, "lower-failed", tag_ids=["upper", "lower"], when=at(4), status="failed",
              published_at=None)
    post_make(location, "before", tag_ids=["upper", "lower"], when=at(20, month=2), likes=6, comments=0, shares=0)
    post_make(location, "easter-and-sale", tag_ids=["easter", "upper"], when=at(5), likes=1, comments=0, shares=0)
    post_make(location, "plain", tag_ids=[], when=at(6), likes=2, comments=0, shares=0)
    return location


def test_two_spellings_on_one_post_count_once(loc):
    sale = campaigns_collect(locations=[loc], start=START, end=END)["springsale"]
    s = sale.sums
    assert (s.published, s.failed, s.covered, s.engagement) == (3, 1, 3, 12 + 4 + 1)
    assert (s.prev_covered, s.prev_engagement) == (1, 6)
    row = sale.locations[loc.pk]
    assert (row.sums.published, row.sums.engagement) == (3, 17)
    assert row.baseline.covered == 1 and row.baseline.engagement == 2  # only the untagged post


def test_an_alias_and_its_campaign_on_one_post_count_once(loc):
    CampaignAlias.objects.create(slug="easterdeals", into_slug="springsale")
    sale = campaigns_collect(locations=[loc], start=START, end=END)["springsale"]
    assert (sale.sums.published, sale.sums.engagement) == (3, 17)  # easter-and-sale already counted
    assert sale.merged == ["easterdeals"]
