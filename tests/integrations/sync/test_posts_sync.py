"""The posts mirror, with a fake client and a frozen clock: every field, insights absent kept apart from 0
(and kept when a later answer leaves them out), one snapshot per post per day within its first 45 days,
the listing window (the horizon once, then the recent days), idempotency and problems on the run."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import responses
import time_machine

from integrations.highlevel.errors import BadResponse, ValidationError
from integrations.highlevel.types import Post as ApiPost
from integrations.highlevel.types import PostInsights
from integrations.models import Connection, Location, Post, PostInsightSnapshot, TagPost
from integrations.sync import posts
from integrations.sync.runs import RunContext, run_create
from tests.integrations.highlevel.test_client import BASE, clock, make_client, recorder  # noqa: F401  (fixtures)

NOW = datetime(2025, 6, 15, 9, 0, tzinfo=UTC)


class FakeClient:
    """Answers `iter_posts` from `self.posts` within the asked days, and remembers each ask."""

    social_version = "v3"
    version = "2021-07-28"

    def __init__(self):
        self.posts: list[ApiPost] = []
        self.asked: list[tuple[date, date]] = []
        self.versions: list[str | None] = []
        self.fail_after: int | None = None
        self.refuse: str | None = None

    def iter_posts(self, location_id, from_date, to_date, *, page_size, version=None):
        self.asked.append((from_date, to_date))
        self.versions.append(version)
        if (version or self.social_version) == self.refuse:
            raise ValidationError("Unsupported version", status=400, trace_id="trace-v3")
        for n, post in enumerate(p for p in self.posts if from_date <= p.scheduled_at.date() <= to_date):
            if self.fail_after is not None and n >= self.fail_after:
                raise BadResponse("posts: listing incomplete, 1 malformed item(s)", problems=["posts[3]: bad"])
            yield post


def api_post(post_id: str, published: datetime | None, insights: PostInsights | None = None, **extra) -> ApiPost:
    when = published or NOW + timedelta(days=2)
    return ApiPost(id=post_id, status="published" if published else "scheduled", platform="facebook",
                   tag_ids=("t1",), account_ids=("acc1",), summary=f"summary of {post_id}", post_type="post",
                   published_at=published, scheduled_at=when, display_date=when,
                   thumbnail=f"https://cdn.example.com/{post_id}.jpg", insights=insights, **extra)


@pytest.fixture
def location(db) -> Location:
    return Location.objects.create(location_id="loc1", name="Bistro")


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


def refresh(location: Location, client: FakeClient) -> RunContext:
    location.refresh_from_db()
    ctx = RunContext(run=run_create(kind="tags", location=location), location=location, client=client, owner="t")
    posts.posts_refresh(ctx)
    return ctx


def test_every_field_is_mirrored_and_insights_absent_are_not_zero(location, client):
    client.posts = [
        api_post("p1", NOW - timedelta(days=1), PostInsights(like=5, share=1, comment=2)),
        api_post("p2", NOW - timedelta(days=1), PostInsights(like=0, share=0, comment=0)),
        api_post("p3", NOW - timedelta(days=1), None),
        replace(api_post("p4", None), status="failed", error="Session has expired."),
    ]
    with time_machine.travel(NOW, tick=False):
        ctx = refresh(location, client)
    rows = {p.post_id: p for p in Post.objects.filter(location=location)}
    one = rows["p1"]
    assert (one.platform, one.account_id, one.status, one.post_type, one.summary, one.tag_ids) == (
        "facebook", "acc1", "published", "post", "summary of p1", ["t1"])
    assert one.thumbnail == "https://cdn.example.com/p1.jpg" and one.published_at == NOW - timedelta(days=1)
    assert (one.likes, one.shares, one.comments, one.engagement, one.insights_at) == (5, 1, 2, 8, NOW)
    assert (rows["p2"].likes, rows["p2"].engagement, rows["p2"].has_insights) == (0, 0, True)
    assert (rows["p3"].likes, rows["p3"].engagement, rows["p3"].has_insights) == (None, None, False)
    assert rows["p4"].status == "failed" and rows["p4"].error == "Session has expired."
    assert TagPost.objects.filter(location=location, tag_id="t1").count() == 4
    assert ctx.problems == []


def test_a_second_unchanged_refresh_writes_nothing(location, client):
    client.posts = [api_post(f"p{i}", NOW - timedelta(days=i), PostInsights(like=i, share=0, comment=1))
                    for i in range(1, 30)]
    with time_machine.travel(NOW, tick=False):
        first = refresh(location, client)
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        second = refresh(location, client)
    assert first.counts["rows_written"] > 0
    assert second.counts["rows_written"] == 0


def test_insights_a_later_answer_leaves_out_are_kept_and_changes_are_written(location, client):
    client.posts = [api_post("p1", NOW - timedelta(days=1), PostInsights(like=5, share=1, comment=2))]
    with time_machine.travel(NOW, tick=False):
        refresh(location, client)
    client.posts = [api_post("p1", NOW - timedelta(days=1), None)]  # e.g. answered under 2021-07-28
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        assert refresh(location, client).counts["rows_written"] == 0
    client.posts = [api_post("p1", NOW - timedelta(days=1), PostInsights(like=9, share=None, comment=3))]
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        refresh(location, client)
    row = Post.objects.get(post_id="p1")
    assert (row.likes, row.shares, row.comments) == (9, 1, 3)
    assert row.insights_at == NOW + timedelta(hours=2)


def test_one_snapshot_per_post_per_day_shows_growth(location, client):
    published = NOW - timedelta(hours=20)
    for day in range(4):
        client.posts = [api_post("p1", published, PostInsights(like=10 * (day + 1), share=day, comment=2 * day))]
        for hour in (0, 6):  # two refreshes a day: still one snapshot, holding the day's latest numbers
            with time_machine.travel(NOW + timedelta(days=day, hours=hour), tick=False):
                refresh(location, client)
    snaps = list(PostInsightSnapshot.objects.filter(post__post_id="p1").order_by("day"))
    assert [s.day for s in snaps] == [NOW.date() + timedelta(days=d) for d in range(4)]
    assert [s.likes for s in snaps] == [10, 20, 30, 40]
    assert snaps[-1].taken_at == NOW + timedelta(days=3)


def test_snapshots_stop_after_45_days_and_a_moved_post_loses_those_outside_its_window(location, client):
    published = NOW - timedelta(hours=2)
    for day in range(50):
        client.posts = [api_post("p1", published, PostInsights(like=day, share=0, comment=0))]
        # Listed every day (as if the horizon were read again), so only the write path's bound holds it.
        Location.objects.filter(pk=location.pk).update(posts_covered_from=None)
        with time_machine.travel(NOW + timedelta(days=day), tick=False):
            refresh(location, client)
    days = list(PostInsightSnapshot.objects.filter(post__post_id="p1").values_list("day", flat=True))
    assert len(days) == 45 == posts.SNAPSHOT_DAYS
    assert min(days) == published.date() and max(days) == published.date() + timedelta(days=44)
    # HighLevel now says the post went out 10 days later (re-published): its window moves, 10 days drop out.
    client.posts = [api_post("p1", published + timedelta(days=10), PostInsights(like=99, share=0, comment=0))]
    Location.objects.filter(pk=location.pk).update(posts_covered_from=None)
    with time_machine.travel(NOW + timedelta(days=50), tick=False):
        refresh(location, client)
    days = sorted(PostInsightSnapshot.objects.filter(post__post_id="p1").values_list("day", flat=True))
    assert days[0] == published.date() + timedelta(days=10) and len(days) == 36  # days 10..44, then today (50)
    assert days[-1] == (NOW + timedelta(days=50)).date()


def test_a_post_first_seen_when_older_than_45_days_gets_no_snapshot(location, client):
    client.posts = [api_post("old", NOW - timedelta(days=60), PostInsights(like=50, share=2, comment=4))]
    with time_machine.travel(NOW, tick=False):
        refresh(location, client)
    assert Post.objects.get(post_id="old").likes == 50
    assert not PostInsightSnapshot.objects.exists()


def test_the_horizon_is_listed_once_then_only_the_recent_window(location, client, settings):
    settings.SYNC_STATISTICS_HORIZON_DAYS = 181
    client.posts = [api_post("old", NOW - timedelta(days=150)), api_post("new", NOW - timedelta(days=3))]
    with time_machine.travel(NOW, tick=False):
        refresh(location, client)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        refresh(location, client)
    first, later = client.asked
    assert first == (NOW.date() - timedelta(days=180), NOW.date() + timedelta(days=31))
    assert later == (NOW.date() + timedelta(days=1) - timedelta(days=44), NOW.date() + timedelta(days=32))
    assert set(Post.objects.values_list("post_id", flat=True)) == {"old", "new"}  # old: read once, kept
    location.refresh_from_db()
    assert location.posts_covered_from == datetime.combine(first[0], datetime.min.time(), tzinfo=UTC)
    settings.SYNC_STATISTICS_HORIZON_DAYS = 365  # a longer horizon: the whole of it is listed once more
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        refresh(location, client)
    assert client.asked[-1][0] == NOW.date() + timedelta(days=2) - timedelta(days=364)


def test_an_incomplete_listing_stores_what_it_read_deletes_nothing_and_covers_nothing(location, client):
    client.posts = [api_post(f"p{i}", NOW - timedelta(days=i)) for i in range(1, 6)]
    with time_machine.travel(NOW, tick=False):
        refresh(location, client)
    Location.objects.filter(pk=location.pk).update(posts_covered_from=None)
    client.posts = [*client.posts[:2], api_post("p9", NOW - timedelta(days=9))]
    client.fail_after = 2
    with time_machine.travel(NOW, tick=False):
        ctx = refresh(location, client)
    assert Post.objects.count() == 5  # p3..p5 absent from an unclean listing: kept
    assert any("listing incomplete" in line for line in ctx.problems) and "posts[3]: bad" in ctx.problems
    location.refresh_from_db()
    assert location.posts_covered_from is None  # the horizon was not read: listed again next time


def test_a_post_gone_from_a_complete_listing_is_deleted(location, client):
    client.posts = [api_post("keep", NOW - timedelta(days=1)), api_post("gone", NOW - timedelta(days=2))]
    with time_machine.travel(NOW, tick=False):
        refresh(location, client)
    client.posts = client.posts[:1]
    with time_machine.travel(NOW, tick=False):
        refresh(location, client)
    assert list(Post.objects.values_list("post_id", flat=True)) == ["keep"]


def test_a_malformed_field_is_a_problem_on_the_run_and_the_post_is_kept(location, client):
    client.posts = [replace(api_post("p1", NOW - timedelta(days=1)),
                            problems=("post p1: insights.like is not a number ('lots'); read as not available",))]
    with time_machine.travel(NOW, tick=False):
        ctx = refresh(location, client)
    assert Post.objects.filter(post_id="p1").exists()
    assert ctx.problems == ["post p1: insights.like is not a number ('lots'); read as not available"]


def test_a_refused_social_version_lists_posts_under_the_api_version_and_says_so(location, client):
    client.refuse = "v3"
    client.posts = [api_post("p1", NOW - timedelta(days=1))]
    with time_machine.travel(NOW, tick=False):
        ctx = refresh(location, client)
    assert client.versions == ["v3", "2021-07-28"]
    assert Post.objects.filter(post_id="p1").exists()
    assert ctx.problems == ["HighLevel refused posts under Version v3 (Unsupported version); listed under "
                            "2021-07-28, without insights"] and ctx.trace_ids == ["trace-v3"]


def test_a_refusal_under_the_api_version_itself_is_not_hidden(location, client):
    client.version = client.social_version = client.refuse = "v3"
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError):
        refresh(location, client)


@responses.activate
def test_the_first_refresh_pages_through_the_horizon_under_v3_then_only_the_recent_days(
        location, make_client, settings):  # noqa: F811
    settings.SYNC_STATISTICS_HORIZON_DAYS = 181
    stored = [{"_id": f"p{n:03d}", "status": "published", "platform": "facebook", "accountId": "acc1", "tags": [],
               "scheduleDate": (NOW - timedelta(hours=17 * n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
              for n in range(250)]  # one every 17 hours: 250 posts over 177 days
    asked = []

    def answer(request):
        body = json.loads(request.body)
        asked.append((request.headers["Version"], body["fromDate"], body["toDate"], body["skip"], body["limit"]))
        inside = [p for p in stored if body["fromDate"] <= p["scheduleDate"] <= body["toDate"]]
        skip, limit = int(body["skip"]), int(body["limit"])
        return 200, {}, json.dumps({"success": True, "results": {"posts": inside[skip:skip + limit]}})

    responses.add_callback(responses.POST, f"{BASE}/social-media-posting/loc1/posts/list", callback=answer)
    client = make_client()
    with time_machine.travel(NOW, tick=False):
        refresh(location, client)
    assert asked == [("v3", "2024-12-17T00:00:00.000Z", "2025-07-16T23:59:59.999Z", str(skip), "100")
                     for skip in (0, 100, 200)]
    assert Post.objects.filter(location=location).count() == 250
    asked.clear()
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert refresh(location, client).counts["rows_written"] == 0
    assert asked == [("v3", "2025-05-03T00:00:00.000Z", "2025-07-17T23:59:59.999Z", "0", "100")]


def test_a_connection_moved_to_2021_07_28_lists_posts_under_it_at_once(location, client):
    connection = Connection.objects.create(name="Bistro token", kind=Connection.Kind.PRIVATE_TOKEN,
                                           location_id="loc1", social_api_version="2021-07-28")
    Location.objects.filter(pk=location.pk).update(connection=connection)
    client.refuse = "v3"
    client.posts = [api_post("p1", NOW - timedelta(days=1))]
    with time_machine.travel(NOW, tick=False):
        ctx = refresh(location, client)
    assert client.versions == ["2021-07-28"] and ctx.problems == []
    assert Post.objects.filter(post_id="p1").exists()
