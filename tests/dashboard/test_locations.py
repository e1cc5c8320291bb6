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
    with django_assert_max_num_queries(10):  # two of them: the open "needs attention" items, the goals
        small = marketer_http.get("/")
    for n in range(3, 12):
        tags_bulk(location_make(f"loc-{n}", f"Shop {n}"), 60, seed=n)
    with django_assert_max_num_queries(10):
        big = marketer_http.get("/")
    assert len(small.context["locations"]) == 3 and len(big.context["locations"]) == 12
