"""The sync's writes move the location's data versions (integrations/data_versions.py) in their own
transactions, and only when they write: the tags version for tags, posts and links, the statistics version
for points and demographics. Views kept by those versions (performance_memo.py) show the fresh figures after
a sync, against the live sandbox."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.selectors.performance_memo import memo_clear
from integrations.highlevel.types import PostInsights
from integrations.highlevel.types import Statistics as ApiStatistics
from integrations.models import Location, Post, StatisticsPoint, SyncRun, Tag, TagPost
from integrations.sync import agency_rollup, statistics_store
from integrations.sync.runs import RunContext
from integrations.sync.services import refresh_location_enqueue
from tests.dashboard.browsing_factories import location_make
from tests.integrations.sync.test_posts_sync import NOW, FakeClient, api_post
from tests.integrations.sync.test_posts_sync import refresh as posts_refresh

DAY = NOW.date() - timedelta(days=1)


def versions(location: Location) -> tuple[int, int]:
    location.refresh_from_db()
    return location.tags_version, location.statistics_version


def write_points(location: Location, values: dict, scope: str = "") -> None:
    statistics_store.upsert_values(RunContext(run=None, location=location, client=None, owner="test"), scope, values)


@pytest.fixture
def location(db) -> Location:
    return location_make("loc-v", "Versions", tz="UTC")


def test_posts_writes_move_the_tags_version_only_when_they_write(location, time_machine):
    time_machine.move_to(NOW, tick=False)
    client = FakeClient()
    client.posts = [api_post("p1", NOW - timedelta(days=1), PostInsights(like=5, share=1, comment=2)),
                    api_post("p2", NOW - timedelta(days=2), PostInsights(like=1, share=0, comment=0))]
    tags, stats = versions(location)
    posts_refresh(location, client)
    created = versions(location)
    assert created[0] != tags and created[1] == stats  # statistics untouched by posts
    posts_refresh(location, client)
    assert versions(location) == created  # an unchanged refresh writes nothing, moves nothing
    client.posts[0] = api_post("p1", NOW - timedelta(days=1), PostInsights(like=9, share=1, comment=2))
    posts_refresh(location, client)
    insights = versions(location)
    assert insights[0] != created[0] and Post.objects.get(post_id="p1").likes == 9
    del client.posts[1]  # deleted in HighLevel: the post goes, and the version moves with it
    posts_refresh(location, client)
    assert versions(location)[0] != insights[0] and not Post.objects.filter(post_id="p2").exists()


def test_statistics_writes_move_the_statistics_version_only_when_they_write(location):
    tags, stats = versions(location)
    write_points(location, {("facebook", "impressions", DAY): 10.0})
    written = versions(location)
    assert written[1] != stats and written[0] == tags
    write_points(location, {("facebook", "impressions", DAY): 10.0})
    assert versions(location) == written
    write_points(location, {("facebook", "impressions", DAY): 12.0}, scope="prof-1")  # one account's points too
    assert versions(location)[1] != written[1]


def test_demographics_move_the_statistics_version(location):
    answer = ApiStatistics(profile_ids=(), day_range=("Mon",), totals={}, posts_by_platform={}, performance={},
                           breakdowns={}, engagement={}, platform_totals={},
                           demographics={"gender": {"totals": {"male": {"total": 3}}}})
    ctx = RunContext(run=None, location=location, client=None, owner="test")
    _, stats = versions(location)
    statistics_store.answer_store(ctx, "", answer, [DAY])
    moved = versions(location)[1]
    assert moved != stats
    statistics_store.answer_store(ctx, "", answer, [DAY])  # the same demographics again: nothing written
    assert versions(location)[1] == moved


def test_a_write_that_fails_leaves_the_version_as_it_was(location, monkeypatch):
    """The version moves in the write's transaction: a write rolled back does not move it (nor the rows)."""
    _, stats = versions(location)

    def broken(changes, location_pk):  # prepared, and failing in the transaction, after the points' INSERT
        def run():
            raise RuntimeError("the database went away")
        return run

    monkeypatch.setattr(statistics_store, "changes_prepared", broken)
    with pytest.raises(RuntimeError):
        write_points(location, {("facebook", "impressions", DAY): 10.0})
    assert versions(location)[1] == stats and not StatisticsPoint.objects.filter(location=location).exists()
    monkeypatch.setattr(statistics_store, "changes_prepared", agency_rollup.changes_prepared)


def test_a_restore_or_a_rollup_rebuild_moves_every_version(location, tmp_path):
    before = versions(location)
    call_command("rollup_rebuild", stdout=open(tmp_path / "out.txt", "w"))  # noqa: SIM115
    after = versions(location)
    assert after[0] != before[0] and after[1] != before[1]


def test_new_locations_start_from_versions_of_their_own(db):
    one, two = location_make("loc-1", "One"), location_make("loc-2", "Two")
    assert len({one.tags_version, one.statistics_version, two.tags_version, two.statistics_version}) == 4


# --- Against the live sandbox: a view after a sync shows fresh figures ------------------------------------


@pytest.fixture
def synced(hl, agency) -> list[Location]:
    locations = list(Location.objects.filter(connection=agency).order_by("location_id"))
    for loc in locations:
        run = refresh_location_enqueue(loc)
        run.refresh_from_db()
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return locations


def sync(location: Location, kinds: list[str]) -> None:
    run = refresh_location_enqueue(location, kinds=kinds)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error


def get(http, url: str) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(url)
    assert response.status_code == 200
    return response.json(), len(ctx.captured_queries)


def test_statistics_after_a_sync_are_fresh_and_kept_until_the_next_write(hl, synced, marketer_http):
    today = timezone.now().astimezone(UTC).date()
    url = f"/api/v1/statistics/?start={today - timedelta(days=29)}&end={today}&compare=previous&rank=impressions"
    first, computed = get(marketer_http, url)
    again, kept = get(marketer_http, url)
    assert again == first and kept < computed
    target = synced[0]
    sync(target, ["statistics"])  # unchanged in the sandbox: nothing written, still kept
    assert get(marketer_http, url) == (first, kept)
    hl.drop_metric(target.location_id, "impressions", factor=0.25,
                   start=(today - timedelta(days=10)).isoformat())
    sync(target, ["statistics"])
    fresh, _ = get(marketer_http, url)
    assert fresh["metrics"]["impressions"]["total"] < first["metrics"]["impressions"]["total"]
    ranked = {row["id"]: row["total"] for row in fresh["ranking"]}
    assert ranked[target.location_id] < {row["id"]: row["total"] for row in first["ranking"]}[target.location_id]
    memo_clear()
    assert get(marketer_http, url)[0] == fresh  # what a fresh computation answers


def test_campaigns_after_a_sync_are_fresh(hl, synced, marketer_http):
    target = synced[0]
    linked = TagPost.objects.filter(location=target, status="published", at__gte=timezone.now() - timedelta(days=60))
    tag = Tag.objects.filter(location=target, removed_at__isnull=True,
                             tag_id__in=linked.values_list("tag_id", flat=True)).order_by("tag_id").first()
    assert tag is not None
    url = "/api/v1/campaigns/?range=90d&page_size=500"
    first, _ = get(marketer_http, url)
    assert any(tag.name in row["spellings"] for row in first["results"])
    hl.rename_tag(target.location_id, tag.tag_id, "Renamed After Sync")
    sync(target, ["tags"])
    fresh, _ = get(marketer_http, url)
    assert any(row["name"] == "Renamed After Sync" for row in fresh["results"])
    memo_clear()
    assert get(marketer_http, url)[0] == fresh
