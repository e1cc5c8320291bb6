"""The scorecard's arithmetic against rows planted by hand: sums, per-post means and medians, lift against
the location's posts without the tag on the same platforms, coverage, the previous period, local days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.selectors.performance import tag_scorecard
from tests.dashboard.browsing_factories import location_make, post_make, tag_make

pytestmark = pytest.mark.django_db
START, END = date(2026, 3, 1), date(2026, 3, 31)


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def planted():
    loc = location_make("loc-s", "Scores", tz="America/New_York")
    tag_make(loc, "Spring", tag_id="spring")
    tag_make(loc, "Tips", tag_id="tips")
    n = iter(range(1000))

    def post(tags, when, platform="facebook", likes=None, comments=None, shares=None, status="published"):
        return post_make(loc, f"p{next(n)}", tag_ids=tags, when=when, platform=platform, likes=likes,
                         comments=comments, shares=shares, status=status,
                         published_at=when if status == "published" else None)

    post(["spring"], at(2), likes=10, comments=2, shares=1)            # 13
    post(["spring", "tips"], at(3), likes=20, comments=4, shares=3)   # 27
    post(["spring"], at(4), platform="tiktok")                         # published, no insights
    post(["spring"], at(5), status="failed")
    post(["spring"], at(6), status="scheduled")
    post(["tips"], at(7), likes=5, comments=0, shares=0)               # 5
    post([], at(8), likes=1, comments=1, shares=1)                      # 3, untagged facebook
    post([], at(9), platform="instagram", likes=100, comments=0, shares=0)  # other platform: not spring's baseline
    post(["spring"], at(20, month=2), likes=4, comments=0, shares=0)   # previous period: 4
    # 2026-04-01 03:30 UTC is still 31 March in New York: inside the range.
    post(["tips"], datetime(2026, 4, 1, 3, 30, tzinfo=UTC), likes=7, comments=0, shares=0)
    # 2026-03-01 04:30 UTC is 28 February in New York: outside (previous period).
    post(["tips"], datetime(2026, 3, 1, 4, 30, tzinfo=UTC), likes=9, comments=0, shares=0)
    return loc


def rows(card):
    return {row.tag_id: row for row in card.rows}


def test_sums_and_counts_are_those_of_the_planted_posts(planted):
    spring = rows(tag_scorecard(location=planted, start=START, end=END))["spring"]
    assert (spring.sums.published, spring.sums.failed, spring.sums.scheduled) == (3, 1, 1)
    assert (spring.sums.likes, spring.sums.comments, spring.sums.shares, spring.sums.engagement) == (30, 6, 4, 40)
    assert spring.sums.covered == 2
    assert spring.insight_coverage == pytest.approx(2 / 3, abs=0.001)
    assert spring.engagement_per_post == 20.0  # 40 over the 2 posts with insights
    assert spring.medians["engagement"] == 20.0 and spring.medians["likes"] == 15.0
    assert spring.platforms == ["facebook", "tiktok"]
    assert spring.without_insight_platforms


def test_lift_compares_with_posts_without_the_tag_on_the_same_platforms(planted):
    spring = rows(tag_scorecard(location=planted, start=START, end=END))["spring"]
    # Facebook posts without spring in March: tips' 5, the untagged 3, tips' 7 on 31 March (New York): 15 / 3.
    assert spring.baseline_engagement_per_post == 5.0
    assert spring.lift_pct == 300.0  # 20 against 5


def test_local_days_decide_the_range_and_the_previous_period(planted):
    tips = rows(tag_scorecard(location=planted, start=START, end=END))["tips"]
    assert tips.sums.published == 3 and tips.sums.engagement == 27 + 5 + 7
    assert tips.previous_engagement_per_post == 9.0
    spring = rows(tag_scorecard(location=planted, start=START, end=END))["spring"]
    assert spring.previous_engagement_per_post == 4.0 and spring.change_pct == 400.0


def test_filters_search_and_sort(planted):
    card = tag_scorecard(location=planted, start=START, end=END, platform="tiktok")
    assert [r.tag_id for r in card.rows] == ["spring"] and card.rows[0].engagement_per_post is None
    assert [r.tag_id for r in tag_scorecard(location=planted, start=START, end=END, q="TIP").rows] == ["tips"]
    ordered = tag_scorecard(location=planted, start=START, end=END, sort="engagement_per_post").rows
    assert [r.tag_id for r in ordered] == ["tips", "spring"]  # 13 then 20
    by_median = tag_scorecard(location=planted, start=START, end=END, sort="-median_engagement").rows
    assert [r.tag_id for r in by_median] == ["spring", "tips"]


def test_an_empty_range_has_no_rows(planted):
    card = tag_scorecard(location=planted, start=date(2025, 1, 1), end=date(2025, 1, 31))
    assert card.rows == [] and card.location_sums.published == 0


def test_query_count_does_not_grow_with_tags(planted):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            tag_scorecard(location=planted, start=START, end=END)
        return len(ctx.captured_queries)

    before = count()
    for n in range(30):
        tag_make(planted, f"extra {n}", tag_id=f"x{n}")
        post_make(planted, f"extra-post-{n}", tag_ids=[f"x{n}"], when=at(10), likes=n)
    assert count() == before == 4  # data version (1); tags with their names, all posts (range and previous
    # together); medians


def test_one_tag_s_card_equals_its_row_in_the_full_card(planted):
    full = rows(tag_scorecard(location=planted, start=START, end=END))["spring"]
    (one,) = tag_scorecard(location=planted, start=START, end=END, tag_ids=["spring"]).rows
    assert (one.sums, one.baseline, one.lift_pct, one.medians) == (full.sums, full.baseline, full.lift_pct,
                                                                   full.medians)
