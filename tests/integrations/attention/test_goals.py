"""Goal pacing arithmetic, with a frozen clock: periods in the location's time zone, what counts so far, the
projection to the period's end, and the state it gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.attention.goals import (
    AT_RISK,
    NO_DATA,
    OFF_TRACK,
    ON_TRACK,
    goal_pacing,
    goals_pacing,
    period_of,
    state_for,
)
from integrations.models import Goal, Location, Post, StatisticsPoint
from integrations.sync.agency_rollup import rollups_rebuild

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # Wednesday 11 March, 10:00 in New York


@pytest.fixture
def location(db) -> Location:
    return Location.objects.create(location_id="LOCgoals01", name="Harbour Cafe", timezone="America/New_York")


def points(location, metric, values: dict[date, float], platform=""):
    StatisticsPoint.objects.bulk_create([StatisticsPoint(location=location, profile_id="", platform=platform,
                                                         metric=metric, day=d, value=v, fetched_at=NOW)
                                         for d, v in values.items()])
    rollups_rebuild(min(values), max(values))  # as the sync's writes keep them


def post(location, n, status, at, platform="facebook"):
    return Post.objects.create(location=location, post_id=f"p{n}", status=status, platform=platform,
                               published_at=at if status == "published" else None,
                               scheduled_at=at, display_date=at, last_seen_at=NOW)


def test_periods_are_the_locations_week_and_month():
    assert period_of(Goal.Kind.POSTS_PER_WEEK, date(2026, 3, 11)) == (date(2026, 3, 9), date(2026, 3, 15))
    assert period_of(Goal.Kind.IMPRESSIONS, date(2026, 2, 11)) == (date(2026, 2, 1), date(2026, 2, 28))


@pytest.mark.parametrize(("projection", "state"), [(100, ON_TRACK), (130, ON_TRACK), (85, AT_RISK),
                                                  (84.9, OFF_TRACK), (0, OFF_TRACK), (None, NO_DATA)])
def test_the_state_follows_the_projection_against_the_target(settings, projection, state):
    settings.GOAL_AT_RISK_PCT = 85.0
    assert state_for(projection, 100) == state


@time_machine.travel(NOW, tick=False)
def test_posts_per_week_count_published_so_far_and_scheduled_for_the_rest_of_the_week(location):
    goal = Goal.objects.create(location=location, kind=Goal.Kind.POSTS_PER_WEEK, target=5)
    monday = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    post(location, 1, "published", monday)
    post(location, 2, "published", monday + timedelta(days=1))
    post(location, 3, "published", monday - timedelta(days=2))  # last week
    post(location, 4, "scheduled", NOW + timedelta(days=2))
    post(location, 5, "scheduled", NOW + timedelta(days=6))  # next week
    post(location, 6, "failed", NOW - timedelta(hours=1))
    pacing = goal_pacing(goal, now=NOW)
    assert (pacing.done, pacing.projection, pacing.percent) == (2.0, 3.0, 60.0)
    assert pacing.state == OFF_TRACK
    post(location, 7, "scheduled", NOW + timedelta(days=3))
    post(location, 8, "scheduled", NOW + timedelta(hours=2))
    assert goal_pacing(goal, now=NOW).state == ON_TRACK


@time_machine.travel(NOW, tick=False)
def test_posts_on_one_platform_count_that_platform_only(location):
    goal = Goal.objects.create(location=location, kind=Goal.Kind.POSTS_PER_WEEK, platform="instagram", target=1)
    post(location, 1, "published", NOW - timedelta(hours=3), platform="facebook")
    assert goal_pacing(goal, now=NOW).projection == 0
    post(location, 2, "scheduled", NOW + timedelta(hours=3), platform="instagram")
    assert goal_pacing(goal, now=NOW).state == ON_TRACK


@time_machine.travel(NOW, tick=False)
def test_impressions_per_month_extend_the_daily_rate_of_the_complete_days(location):
    goal = Goal.objects.create(location=location, kind=Goal.Kind.IMPRESSIONS, target=31_000)
    # 1..10 March are complete in New York on the 11th: 1,000 a day; today's partial number is left out.
    points(location, "impressions", {date(2026, 3, d): 1000 for d in range(1, 11)} | {date(2026, 3, 11): 50})
    pacing = goal_pacing(goal, now=NOW)
    assert pacing.done == 10_000 and pacing.projection == 31_000 and pacing.state == ON_TRACK
    goal.target = 40_000
    assert goal_pacing(goal, now=NOW).state == OFF_TRACK  # 31,000 is 77.5% of it


@time_machine.travel(NOW, tick=False)
def test_follower_growth_per_month_is_the_gain_since_the_month_began(location):
    goal = Goal.objects.create(location=location, kind=Goal.Kind.FOLLOWER_GROWTH, target=100)
    # HighLevel counts followers per platform: the goal on all platforms adds them up.
    points(location, "followers", {date(2026, 2, 28): 1500} | {date(2026, 3, d): 1500 + 2 * d for d in range(1, 11)},
           platform="facebook")
    points(location, "followers", {date(2026, 2, 28): 500} | {date(2026, 3, d): 500 + d for d in range(1, 11)},
           platform="instagram")
    pacing = goal_pacing(goal, now=NOW)
    assert pacing.done == 30 and pacing.projection == 93.0 and pacing.state == AT_RISK
    instagram = Goal.objects.create(location=location, kind=Goal.Kind.FOLLOWER_GROWTH, platform="instagram",
                                    target=31)
    assert goal_pacing(instagram, now=NOW).projection == 31 and goal_pacing(instagram, now=NOW).state == ON_TRACK


@time_machine.travel(NOW, tick=False)
def test_engagement_per_post_is_the_months_engagement_over_its_posts(location):
    goal = Goal.objects.create(location=location, kind=Goal.Kind.ENGAGEMENT_PER_POST, target=40)
    days = {date(2026, 3, d): 1 for d in range(1, 11)}
    points(location, "posts", {d: 2 for d in days})  # 20 posts
    points(location, "likes", {d: 60 for d in days})
    points(location, "comments", {d: 15 for d in days})
    points(location, "shares", {d: 5 for d in days})  # 800 / 20 = 40
    pacing = goal_pacing(goal, now=NOW)
    assert pacing.done == 40 and pacing.projection == 40 and pacing.state == ON_TRACK


@time_machine.travel(datetime(2026, 3, 1, 15, 0, tzinfo=UTC), tick=False)
def test_on_the_first_day_of_a_month_it_is_too_early_to_tell(location):
    goal = Goal.objects.create(location=location, kind=Goal.Kind.IMPRESSIONS, target=1000)
    pacing = goal_pacing(goal, now=datetime(2026, 3, 1, 15, 0, tzinfo=UTC))
    assert pacing.state == NO_DATA and pacing.projection is None


def goals_of(n: int, prefix: str) -> list[int]:
    """n locations, each with one goal of every kind, a month of numbers and a post this week; every other one
    across the date line (already on 12 March: its last complete day is another)."""
    pks = []
    for i in range(n):
        zone = "Pacific/Kiritimati" if i % 2 else "America/New_York"
        loc = Location.objects.create(location_id=f"{prefix}{i}", name=f"{prefix} {i}", timezone=zone)
        for kind in Goal.Kind.values:
            Goal.objects.create(location=loc, kind=kind, target=10)
        for metric in ("impressions", "likes", "posts"):
            points(loc, metric, {date(2026, 3, d): 5.0 for d in range(1, 11)})
        points(loc, "followers", {date(2026, 2, 28): 100.0, date(2026, 3, 10): 120.0}, platform="facebook")
        post(loc, i, "published", NOW - timedelta(hours=1))
        pks.append(loc.pk)
    return pks


def test_pacing_many_locations_costs_the_same_queries_as_few(db):
    counts = []
    for n in (1, 20):
        pks = goals_of(n, f"Q{n}x")
        with CaptureQueriesContext(connection) as captured:
            found = goals_pacing(location_pks=pks, now=NOW)
        counts.append(len(captured))
        assert sum(len(v) for v in found.values()) == n * len(Goal.Kind.values)
        by_kind = {p.goal.kind: p for p in found[pks[0]]}
        assert by_kind[Goal.Kind.IMPRESSIONS].done == 50.0
        assert by_kind[Goal.Kind.FOLLOWER_GROWTH].done == 20.0
        assert by_kind[Goal.Kind.POSTS_PER_WEEK].done == 1.0
    # The goals, the weeks' posts counted, the month's rollup, the days after the last complete day, the
    # follower counts.
    assert counts[0] == counts[1] <= 5


@time_machine.travel(NOW, tick=False)
def test_pacing_from_the_monthly_rollup_equals_the_raw_points(location):
    """Today's points (after the last complete day) are left out, gaps stay gaps, and a follower count
    older than the last two complete days is still the latest one (read from all the month's days)."""
    impressions = Goal.objects.create(location=location, kind=Goal.Kind.IMPRESSIONS, target=1000)
    engagement = Goal.objects.create(location=location, kind=Goal.Kind.ENGAGEMENT_PER_POST, target=10,
                                     platform="facebook")
    growth = Goal.objects.create(location=location, kind=Goal.Kind.FOLLOWER_GROWTH, target=50)
    points(location, "impressions", {date(2026, 3, d): 10.0 for d in range(1, 12)})  # 11 March is today
    points(location, "likes", {date(2026, 3, 2): 4.0, date(2026, 3, 3): None}, platform="facebook")
    points(location, "posts", {date(2026, 3, 2): 2.0}, platform="facebook")
    points(location, "followers", {date(2026, 2, 28): 100.0, date(2026, 3, 5): 130.0}, platform="facebook")
    with CaptureQueriesContext(connection) as captured:
        found = {p.goal: p for p in goals_pacing(location_pks=[location.pk], now=NOW)[location.pk]}
    assert found[impressions].done == 100.0  # 1-10 March; today's 10 are not a complete day
    assert found[engagement].done == 2.0
    assert (found[growth].done, found[growth].projection) == (30.0, 186.0)  # 30 gained over 5 days, of 31
    # The goals, the rollup, the days after, the follower counts, then those of the whole month (none on the
    # last two complete days); no posts (no weekly goal).
    assert len(captured) == 5
