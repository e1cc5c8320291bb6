"""The locations overview: counts, new tags, freshness and status, search, empty states, fixed queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Connection, SyncRun
from tests.dashboard.browsing_factories import location_make, tag_make, tags_bulk

pytestmark = pytest.mark.django_db


def test_an_admin_without_locations_is_shown_the_way_to_connect(admin_http):
    html = admin_http.get("/").content.decode()
    assert "No HighLevel location yet" in html and 'href="/connections/"' in html


def test_a_marketer_without_locations_is_told_to_ask_an_admin(marketer_http):
    html = marketer_http.get("/").content.decode()
    assert "No HighLevel location yet" in html and "Ask an administrator" in html and "/connections/" not in html


def test_it_lists_each_location_with_tags_new_tags_and_sync_state(marketer_http):
    now = timezone.now()
    acme = location_make("loc-a", "Acme", synced_at=now - timedelta(minutes=5))
    tag_make(acme, "old", baseline=True, first_seen=now - timedelta(days=1))  # baseline: never new
    tag_make(acme, "fresh", first_seen=now - timedelta(days=2))
    tag_make(acme, "last-month", first_seen=now - timedelta(days=8))
    tag_make(acme, "gone", first_seen=now - timedelta(days=1), removed=now)
    stale = location_make("loc-b", "Bistro", synced_at=now - timedelta(days=3), status="failed")
    body = marketer_http.get("/").content.decode()
    assert "Acme" in body and "Bistro" in body
    rows = {loc.location_id: loc for loc in marketer_http.get("/").context["locations"]}
    assert (rows["loc-a"].tag_count, rows["loc-a"].new_tag_count) == (3, 1)
    assert rows["loc-a"].fresh["state"] == "fresh" and rows["loc-a"].status == "succeeded"
    assert rows["loc-b"].fresh["state"] == "stale" and rows["loc-b"].status == "failed"
    assert "Stale" in body and "1 new" in body and 'href="/locations/loc-a/tags/?status=new"' in body
    assert stale.pk


def test_the_overview_reads_the_tag_counts_the_sync_stored_and_counts_a_never_synced_location(marketer_http):
    from integrations.models import Location
    from integrations.tag_counts import tag_counts_store

    synced, fresh = location_make("loc-a", "Acme"), location_make("loc-b", "Bistro")
    tags_bulk(synced, 4)
    tag_make(fresh, "one")
    tag_make(fresh, "two")
    tag_make(fresh, "gone", removed=timezone.now())
    tag_counts_store(synced)  # what the tag sync does after its writes
    Location.objects.filter(pk=synced.pk).update(tag_count_active=1234)  # the stored figure is the one shown
    rows = {loc.location_id: loc for loc in marketer_http.get("/").context["locations"]}
    assert rows["loc-a"].tag_count == 1234 and rows["loc-b"].tag_count == 2


def test_a_queued_refresh_shows_as_refreshing(marketer_http):
    acme = location_make("loc-a", "Acme")
    SyncRun.objects.create(kind=SyncRun.Kind.LOCATION, location=acme, status=SyncRun.Status.RUNNING)
    assert marketer_http.get("/").context["locations"][0].status == "running"


def test_the_search_box_filters_by_name_or_id(marketer_http):
    location_make("loc-a", "Acme Bakery")
    location_make("loc-b", "Bistro")
    names = [loc.name for loc in marketer_http.get("/?q=bak").context["locations"]]
    assert names == ["Acme Bakery"]
    assert [loc.name for loc in marketer_http.get("/?q=loc-b").context["locations"]] == ["Bistro"]
    nothing = marketer_http.get("/?q=zzz").content.decode()
    assert "No location matches" in nothing and "No HighLevel location yet" not in nothing


def test_a_disconnected_connection_is_flagged(marketer_http):
    acme = location_make("loc-a", "Acme")
    Connection.objects.filter(pk=acme.connection_id).update(status=Connection.Status.REVOKED)
    assert "Revoked" in marketer_http.get("/").content.decode()


def test_the_overview_runs_a_fixed_number_of_queries(marketer_http, django_assert_max_num_queries):
    for n in range(3):
        tags_bulk(location_make(f"loc-{n}", f"Shop {n}"), 60, seed=n)
    # Three of them: the ids in order, the open "needs attention" items, then the page's rows; and the goals.
    with django_assert_max_num_queries(11):
        small = marketer_http.get("/")
    for n in range(3, 12):
        tags_bulk(location_make(f"loc-{n}", f"Shop {n}"), 60, seed=n)
    with django_assert_max_num_queries(11):
        big = marketer_http.get("/")
    assert len(small.context["locations"]) == 3 and len(big.context["locations"]) == 12


def test_the_overview_pages_fifty_locations_needing_attention_first(marketer_http, django_assert_num_queries):
    """An agency of 60: page 1 has the location needing attention (last by name) first and 50 rows, page 2 the
    other 10; goals, counts and runs are read for a page's locations only, at the same cost as a small agency."""
    from integrations.models import Alert, Goal

    locations = [location_make(f"loc-{n:02d}", f"Shop {n:02d}") for n in range(60)]
    for location in locations:
        Goal.objects.create(location=location, kind=Goal.Kind.POSTS_PER_WEEK, target=3)
    now = timezone.now()
    Alert.objects.create(kind="post.failed", dedupe_key="post.failed:loc-59:x", title="Shop 59: a post failed",
                         location=locations[-1], context={"reason": "post failed on Instagram"},
                         first_seen_at=now, last_seen_at=now)
    first = marketer_http.get("/")
    rows = first.context["locations"]
    assert [loc.location_id for loc in rows[:2]] == ["loc-59", "loc-00"] and len(rows) == 50
    assert all(hasattr(loc, "pacing") and len(loc.pacing) == 1 for loc in rows)
    body = first.content.decode()
    assert "Page 1 of 2" in body and 'href="?page=2"' in body and "60 locations" in body
    second = marketer_http.get("/?page=2")
    assert [loc.location_id for loc in second.context["locations"]] == [f"loc-{n}" for n in range(49, 59)]
    assert "Page 2 of 2" in second.content.decode()
    api = marketer_http.get("/api/v1/locations/?page=2&page_size=20").json()
    assert api["count"] == 60 and [r["id"] for r in api["results"]][:2] == ["loc-19", "loc-20"]
    assert all(len(r["goals"]) == 1 for r in api["results"])
    searched = marketer_http.get("/?q=Shop 5")
    assert {loc.location_id for loc in searched.context["locations"]} == {f"loc-5{n}" for n in range(10)}
    with django_assert_num_queries(len_queries(marketer_http, "/")):
        marketer_http.get("/?page=2")  # 10 rows cost what 50 do


def len_queries(http, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        http.get(url)
    return len(captured)
