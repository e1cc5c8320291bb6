"""End to end over the sandbox: posts planted with known ids, platforms, insights and times near midnight in
the location's time zone are synced, and the scorecard, campaign and heatmap figures equal their sums; every
tag's engagement over 90 days equals the sum of the insights HighLevel (the sandbox) answers for its posts."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.devtools.demo import sandbox_agency_connect
from dashboard.selectors.best_time import best_time_heatmap
from dashboard.selectors.campaigns import campaign_get
from dashboard.selectors.performance import tag_scorecard
from dashboard.selectors.statistics_range import location_today
from integrations.highlevel.parsing import parse_datetime
from integrations.models import Location, Post, SyncRun
from integrations.sync.services import refresh_location_enqueue

INSIGHT_PLATFORMS = ("facebook", "instagram", "linkedin", "youtube")


def sync(location) -> None:
    run = refresh_location_enqueue(location, kinds=["tags"])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error


def iso(local: datetime) -> str:
    return local.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def world(hl, db):
    connection = sandbox_agency_connect(hl, redirect_uri="http://testserver/connections/oauth/callback/")
    location = Location.objects.filter(connection=connection).order_by("location_id").first()
    sync(location)
    location.refresh_from_db()
    return hl, location


def test_planted_posts_sum_up_on_the_location_s_days(world):
    hl, location = world
    zone = ZoneInfo(location.timezone)
    platforms = set(Post.objects.filter(location=location).values_list("platform", flat=True))
    reporting = sorted(platforms & set(INSIGHT_PLATFORMS))
    silent = sorted(platforms - set(INSIGHT_PLATFORMS))
    assert len(reporting) >= 2 and silent, platforms
    day = location_today(location) - timedelta(days=3)
    at = lambda d, h, m: datetime.combine(d, time(h, m), tzinfo=zone)  # noqa: E731
    tag = hl.add_tag(location.location_id, "Planted  CAMPAIGN")
    t = [tag["_id"]]
    hl.plant_posts(location.location_id, [
        {"id": "plant-late", "platform": reporting[0], "publishedAt": iso(at(day, 23, 50)), "tags": t,
         "insights": {"like": 10, "comment": 2, "share": 1}},
        {"id": "plant-early", "platform": reporting[0], "publishedAt": iso(at(day, 0, 5)), "tags": t,
         "insights": {"like": 5, "comment": 0, "share": 0}},
        {"id": "plant-next-day", "platform": reporting[1], "publishedAt": iso(at(day + timedelta(days=1), 0, 10)),
         "tags": t, "insights": {"like": 100, "comment": 0, "share": 0}},
        {"id": "plant-silent", "platform": silent[0], "publishedAt": iso(at(day, 12, 0)), "tags": t},
        {"id": "plant-failed", "platform": reporting[0], "status": "failed", "scheduleDate": iso(at(day, 13, 0)),
         "tags": t, "error": "Session has expired."},
    ])
    sync(location)

    card = tag_scorecard(location=location, start=day, end=day)
    row = next(r for r in card.rows if r.tag_id == tag["_id"])
    assert (row.posts, row.sums.failed, row.sums.covered) == (3, 1, 2)
    assert (row.sums.likes, row.sums.comments, row.sums.shares, row.sums.engagement) == (15, 2, 1, 18)
    assert row.engagement_per_post == 9.0 and row.insight_coverage == pytest.approx(0.667, abs=0.001)
    assert row.medians["engagement"] == 9.0  # 13 and 5
    next_day = next(r for r in tag_scorecard(location=location, start=day + timedelta(days=1),
                                             end=day + timedelta(days=1)).rows if r.tag_id == tag["_id"])
    assert (next_day.posts, next_day.sums.engagement) == (1, 100)

    campaign = campaign_get(locations=[location], slug="plantedcampaign", start=day - timedelta(days=1),
                            end=day + timedelta(days=1))  # UTC days: both local days fall within
    assert campaign.name == "Planted  CAMPAIGN" and campaign.sums.engagement == 118

    only_tag = best_time_heatmap(location=location, start=day, end=day, tag_id=tag["_id"])
    cells = {(c.weekday, c.hour): c for _, row_cells in only_tag.rows for c in row_cells if c.posts}
    assert cells == {(day.isoweekday(), 23): cells[(day.isoweekday(), 23)],
                     (day.isoweekday(), 0): cells[(day.isoweekday(), 0)]}
    assert cells[(day.isoweekday(), 23)].engagement == 13 and cells[(day.isoweekday(), 0)].engagement == 5


def every_post(hl, location_id: str) -> list[dict]:
    pit, found, skip = hl.pit(location_id), [], 0
    while True:
        page = hl.api("POST", f"/social-media-posting/{location_id}/posts/list", pit, version="v3",
                      json={"fromDate": "2000-01-01T00:00:00.000Z", "toDate": "2100-01-01T00:00:00.000Z",
                            "skip": str(skip), "limit": "100"}).json()["results"]["posts"]
        found.extend(page)
        if len(page) < 100:
            return found
        skip += 100


def test_every_tag_s_engagement_is_the_sum_of_highlevel_s_post_insights(world):
    hl, location = world
    zone = ZoneInfo(location.timezone)
    end = location_today(location)
    start = end - timedelta(days=89)
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # tag: [published, engagement]
    for post in every_post(hl, location.location_id):
        if post["status"] != "published" or not post["publishedAt"]:
            continue
        if not start <= parse_datetime(post["publishedAt"]).astimezone(zone).date() <= end:
            continue
        insights = post.get("insights") or {}
        for tag_id in set(post["tags"]):
            expected[tag_id][0] += 1
            expected[tag_id][1] += sum(insights.values())
    card = tag_scorecard(location=location, start=start, end=end)
    found = {r.tag_id: [r.posts, r.sums.engagement] for r in card.rows if r.posts}
    assert found == dict(expected) and len(found) > 3
    best, worst = max(r.engagement_per_post or 0 for r in card.rows), min(
        r.engagement_per_post for r in card.rows if r.engagement_per_post)
    assert best > 1.5 * worst  # the demo's tags differ in appeal


def test_tag_links_keep_their_posts_figures_as_insights_grow(world):
    hl, location = world
    from integrations.models import TagPost

    def mismatched() -> list[str]:
        return [link.post.post_id for link in TagPost.objects.filter(location=location).select_related("post")
                if (link.at, link.status, link.platform, link.likes, link.comments, link.shares)
                != (link.post.when, link.post.status, link.post.platform, link.post.likes, link.post.comments,
                    link.post.shares)]

    before = dict(TagPost.objects.filter(location=location).values_list("pk", "likes"))
    assert before and mismatched() == []
    hl.advance(2 * 86400)  # insights grow in the sandbox
    sync(location)
    assert mismatched() == []
    after = dict(TagPost.objects.filter(location=location).values_list("pk", "likes"))
    assert after != before  # some links were rewritten with grown insights
    sync(location)  # nothing moved: nothing rewritten
    assert dict(TagPost.objects.filter(location=location).values_list("pk", "likes")) == after
