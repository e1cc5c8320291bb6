"""The scorecard's sums are kept per process (performance_memo.py) only while nothing they are computed from
changes: each kind of write the posts sync makes shows on the next view."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.selectors.performance import tag_scorecard
from integrations.data_versions import TAGS, versions_move
from integrations.models import Post, TagPost
from tests.dashboard.browsing_factories import location_make, post_make, tag_make

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 10)
WHEN = datetime(2026, 3, 10, 15, tzinfo=UTC)


@pytest.fixture
def loc():
    location = location_make("loc-m", "Memo", tz="UTC")
    tag_make(location, "Spring", tag_id="spring")
    post_make(location, "tagged", tag_ids=["spring"], when=WHEN, likes=10, comments=0, shares=0)
    post_make(location, "untagged", tag_ids=[], when=WHEN, likes=4, comments=0, shares=0)
    return location


def card(location):
    with CaptureQueriesContext(connection) as ctx:
        found = tag_scorecard(location=location, start=DAY, end=DAY)
    return {r.tag_id: (r.sums.engagement, r.lift_pct) for r in found.rows}, len(ctx.captured_queries)


def sync_writes(post: Post, **fields) -> None:
    """What the posts sync does on a change: the fields, last_seen_at, the links rewritten and the location's
    tags version moved (tests/integrations/sync/test_data_versions.py runs the sync itself)."""
    for name, value in fields.items():
        setattr(post, name, value)
    post.last_seen_at = timezone.now() + timedelta(seconds=1)
    post.save()
    TagPost.objects.filter(post=post).delete()
    TagPost.objects.bulk_create([TagPost.of(post, t) for t in post.tag_ids])
    versions_move(post.location_id, TAGS)


def test_an_unchanged_location_is_answered_from_the_memo_with_fewer_queries(loc):
    first, computed = card(loc)
    again, kept = card(loc)
    assert again == first == {"spring": (10, 150.0)}
    assert kept < computed


def test_insights_of_a_tagged_post_show_at_once(loc):
    card(loc)
    sync_writes(Post.objects.get(post_id="tagged"), likes=20)
    assert card(loc)[0] == {"spring": (20, 400.0)}


def test_insights_of_an_untagged_post_move_the_lift(loc):
    card(loc)
    sync_writes(Post.objects.get(post_id="untagged"), likes=5)
    assert card(loc)[0] == {"spring": (10, 100.0)}


def test_a_removed_tag_and_a_deleted_post_show_at_once(loc):
    card(loc)
    post_make(loc, "second", tag_ids=["spring"], when=WHEN, likes=2, comments=0, shares=0)
    assert card(loc)[0] == {"spring": (12, 50.0)}
    sync_writes(Post.objects.get(post_id="second"), tag_ids=[])
    assert card(loc)[0] == {"spring": (10, 233.3)}  # against (4 + 2) / 2
    Post.objects.filter(post_id="tagged").delete()
    versions_move(loc.pk, TAGS)
    assert card(loc)[0] == {}
