"""Posts end to end over HTTP against the sandbox: a first refresh mirrors every post of the horizon with its
insights exactly as v3 answers them, a later one re-reads only the recent window and writes nothing when
nothing changed, a new day brings a snapshot that shows growth, and 2021-07-28 brings no insights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from integrations.highlevel.parsing import parse_datetime
from integrations.models import Post, PostInsightSnapshot, SyncRun
from integrations.sync.services import refresh_location_enqueue

POSTS_ENDPOINT = "POST /social-media-posting/{locationId}/posts/list"


def sync(location) -> SyncRun:
    run = refresh_location_enqueue(location, kinds=["tags"])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def post_requests(hl) -> int:
    return hl.stats()["requests"]["by_endpoint"].get(POSTS_ENDPOINT, 0)


def truth(hl, location_id: str, version: str = "v3") -> dict[str, dict]:
    pit = hl.pit(location_id)
    found, skip = {}, 0
    while True:
        page = hl.api("POST", f"/social-media-posting/{location_id}/posts/list", pit, version=version,
                      json={"fromDate": "2000-01-01T00:00:00.000Z", "toDate": "2100-01-01T00:00:00.000Z",
                            "skip": str(skip), "limit": "100"}).json()["results"]["posts"]
        found.update((p["_id"], p) for p in page)
        if len(page) < 100:
            return found
        skip += 100


def test_a_first_refresh_mirrors_every_post_with_its_insights_and_a_later_one_reads_less(hl, location):
    hl.reset_stats()
    first = sync(location)
    first_requests = post_requests(hl)
    expected = truth(hl, location.location_id)
    mirror = {p.post_id: p for p in Post.objects.filter(location=location)}
    assert mirror.keys() == expected.keys()  # the sandbox's 60 days are within the 181-day horizon
    with_insights = 0
    for post_id, raw in expected.items():
        row = mirror[post_id]
        assert (row.status, row.platform, row.account_id, row.post_type, row.summary, row.tag_ids) == (
            raw["status"], raw["platform"], raw["accountId"], raw["postType"], raw["summary"], raw["tags"])
        assert row.error == (raw["error"] or "") and row.thumbnail == (raw["thumbnail"] or "")
        assert row.published_at == parse_datetime(raw["publishedAt"])
        assert row.display_date == parse_datetime(raw["displayDate"])
        insights = raw.get("insights")
        if insights is None:
            assert (row.likes, row.shares, row.comments) == (None, None, None)
        else:
            with_insights += 1
            assert (row.likes, row.shares, row.comments) == (insights["like"], insights["share"], insights["comment"])
    assert with_insights > 0
    assert first_requests == len(expected) // 100 + 1  # pages of 100, the last one short

    hl.reset_stats()
    again = sync(location)
    assert again.counts["rows_written"] == 0
    assert all(child.counts["rows_written"] == 0 for child in again.children.all())
    recent = [p for p in expected.values()
              if parse_datetime(p["scheduleDate"]).date() >= datetime.now(UTC).date() - timedelta(days=44)]
    assert post_requests(hl) == len(recent) // 100 + 1 <= first_requests
    assert first.counts["rows_written"] > 0


def test_a_new_day_brings_one_more_snapshot_showing_growth(hl, location):
    sync(location)
    snaps = PostInsightSnapshot.objects.filter(post__location=location)
    first_day = set(snaps.values_list("post_id", "likes"))
    assert first_day
    hl.advance(86400)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1), tick=True):
        sync(location)
    by_post: dict[int, list[int]] = {}
    for post_id, likes in snaps.order_by("day").values_list("post_id", "likes"):
        by_post.setdefault(post_id, []).append(likes)
    assert max(map(len, by_post.values())) == 2
    assert any(series[1] > series[0] for series in by_post.values() if len(series) == 2)
    assert all(series == sorted(series) for series in by_post.values())


def test_under_2021_07_28_posts_are_mirrored_without_insights(hl, location, settings):
    settings.HIGHLEVEL_SOCIAL_API_VERSION = "2021-07-28"
    sync(location)
    assert Post.objects.filter(location=location).count() == len(truth(hl, location.location_id))
    assert not Post.objects.filter(location=location, likes__isnull=False).exists()
    assert not PostInsightSnapshot.objects.exists()


def test_a_sandbox_that_refuses_v3_still_gives_its_posts_without_insights_and_the_run_says_so(hl, location):
    hl.refuse_v3()
    sync(location)
    assert Post.objects.filter(location=location).count() == len(truth(hl, location.location_id, "2021-07-28"))
    assert not Post.objects.filter(location=location, likes__isnull=False).exists()
    tags_unit = SyncRun.objects.get(kind="tags", location=location)
    assert any("refused posts under Version v3" in line for line in tags_unit.problems)
