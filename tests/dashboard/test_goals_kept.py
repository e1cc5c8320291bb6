"""Goal pacing kept per location (dashboard/selectors/goals.py): kept while nothing it is computed from
changes, computed afresh after a sync's write, a goal's change, a new day, or once a scheduled post it counts
as ahead falls due (which changes it with nothing written)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.selectors.goals import goals_pacing
from integrations.data_versions import TAGS, versions_move
from integrations.models import Goal, Post
from tests.dashboard.browsing_factories import location_make, post_make

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def cafe():
    location = location_make("loc-g", "Harbour Cafe", tz="UTC")
    Goal.objects.create(location=location, kind=Goal.Kind.POSTS_PER_WEEK, target=4)
    post_make(location, "done", tag_ids=[], when=NOW - timedelta(days=1))
    for post_id, ahead in (("soon", timedelta(hours=2)), ("later", timedelta(days=2))):
        post_make(location, post_id, tag_ids=[], status="scheduled", when=NOW + ahead, published_at=None,
                  scheduled_at=NOW + ahead)
    return location


def week(location, now) -> tuple[tuple[float, float], int]:
    with CaptureQueriesContext(connection) as ctx:
        pacing = goals_pacing(location_pks=[location.pk], now=now)[location.pk][0]
    return (pacing.done, pacing.projection), len(ctx.captured_queries)


def test_kept_until_something_it_reads_changes(cafe):
    first, computed = week(cafe, NOW)
    assert first == (1.0, 3.0) and computed > 1
    assert week(cafe, NOW + timedelta(minutes=5)) == (first, 1)  # kept: one query, the goals and versions
    post_make(cafe, "more", tag_ids=[], when=NOW - timedelta(hours=1))  # a sync's write moves the version
    assert week(cafe, NOW + timedelta(minutes=5))[0] == (2.0, 4.0)
    Goal.objects.filter(location=cafe).update(target=9)
    assert goals_pacing(location_pks=[cafe.pk], now=NOW)[cafe.pk][0].goal.target == 9


def test_a_scheduled_post_falling_due_changes_it_with_nothing_written(cafe):
    assert week(cafe, NOW)[0] == (1.0, 3.0)
    # Two hours on, "soon" is no longer ahead (nor published until a sync says so): computed again.
    assert week(cafe, NOW + timedelta(hours=2, seconds=1))[0] == (1.0, 2.0)
    assert week(cafe, NOW + timedelta(hours=3)) == ((1.0, 2.0), 1)  # and kept again until "later"


def test_an_earlier_time_or_another_day_is_computed_afresh(cafe):
    week(cafe, NOW)
    assert week(cafe, NOW - timedelta(hours=1))[1] > 1  # asked about before it was computed
    Post.objects.filter(post_id="done").update(published_at=NOW + timedelta(days=5))  # next week
    versions_move(cafe.pk, TAGS)
    assert week(cafe, NOW + timedelta(days=6))[0][0] == 1.0  # Tuesday of the next week: another period
