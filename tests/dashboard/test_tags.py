"""Tags of a location and one tag: search, sorts, status filters, pages, the "new" rule, detail, refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from dashboard.selectors.tag_keyset import keyset_page
from dashboard.selectors.tags import TagFilter, tags_for_location
from integrations.models import Connection, Event, Location, SyncRun, Tag
from integrations.models.mirror import NEW_TAG_DAYS
from tests.dashboard.browsing_factories import event_make, location_make, post_make, tag_make, tags_bulk

pytestmark = pytest.mark.django_db
URL = "/locations/loc-a/tags/"


@pytest.fixture
def acme():
    now = timezone.now()
    location = location_make("loc-a", "Acme")
    tag_make(location, "Banana", baseline=True, first_seen=now - timedelta(days=40), updated=now - timedelta(days=3))
    tag_make(location, "apple pie", first_seen=now - timedelta(days=1), updated=now - timedelta(days=9))
    tag_make(location, "Cherry", first_seen=now - timedelta(days=20), updated=now - timedelta(days=1))
    tag_make(location, "Date", first_seen=now - timedelta(days=2), removed=now - timedelta(hours=1))
    return location


def names(response) -> list[str]:
    return [tag["name"] for tag in response.context["rows"]]


@pytest.mark.parametrize(("sort", "expected"), [
    ("name", ["apple pie", "Banana", "Cherry", "Date"]),
    ("-name", ["Date", "Cherry", "Banana", "apple pie"]),
    ("-updated_at", ["Cherry", "Date", "Banana", "apple pie"]),
    ("first_seen_at", ["Banana", "Cherry", "Date", "apple pie"]),
    ("-first_seen_at", ["apple pie", "Date", "Cherry", "Banana"]),
])
def test_it_sorts_by_name_updated_time_and_first_seen(marketer_http, acme, sort, expected):
    result = names(marketer_http.get(URL, {"sort": sort}))
    if sort == "-updated_at":  # Date's updated time is the factory default (a day ago), Cherry's too
        assert result[0] in ("Cherry", "Date") and result[-2:] == ["Banana", "apple pie"]
    else:
        assert result == expected


@pytest.mark.parametrize(("status", "expected"), [
    ("", ["apple pie", "Banana", "Cherry", "Date"]), ("active", ["apple pie", "Banana", "Cherry"]),
    ("new", ["apple pie"]), ("removed", ["Date"]), ("bogus", ["apple pie", "Banana", "Cherry", "Date"]),
])
def test_status_filters(marketer_http, acme, status, expected):
    assert names(marketer_http.get(URL, {"status": status})) == expected


def test_search_is_a_case_insensitive_substring(marketer_http, acme):
    assert names(marketer_http.get(URL, {"q": "PIE"})) == ["apple pie"]
    assert names(marketer_http.get(URL, {"q": "an"})) == ["Banana"]
    response = marketer_http.get(URL, {"q": "nothing-like-it"})
    assert names(response) == [] and "No tag matches these filters" in response.content.decode()


def test_new_means_first_seen_within_a_week_active_and_not_baseline(acme):
    now = timezone.now()
    tags = {t.name: t for t in tags_for_location(location=acme, filters=TagFilter(), now=now)}
    assert [n for n, t in tags.items() if t.is_new(now)] == ["apple pie"]
    later = now + timedelta(days=NEW_TAG_DAYS, minutes=1)
    assert not tags["apple pie"].is_new(later)


def test_the_page_shows_badges_and_keeps_state_in_links(marketer_http, acme):
    html = marketer_http.get(URL, {"q": "e", "sort": "-name"}).content.decode()
    assert html.count('class="badge new">New<') == 1 and "Removed" in html
    assert "?back=q%3De%26sort%3D-name" in html
    assert 'href="/api/v1/locations/loc-a/tags/?q=e&amp;sort=-name&amp;format=csv"' in html
    assert 'value="e"' in html and '<option value="-name" selected>' in html


def test_pages_of_fifty_follow_next_links_to_the_last_and_back(marketer_http):
    location = location_make("loc-a", "Acme")
    tags_bulk(location, 120)
    first = marketer_http.get(URL)
    assert len(first.context["rows"]) == 50 and first.context["count"] == 120 and first.context["first_query"] is None
    assert first.context["previous_query"] is None and first.context["next_query"].startswith("after=")
    second = marketer_http.get(f"{URL}?{first.context['next_query']}")
    third = marketer_http.get(f"{URL}?{second.context['next_query']}")
    assert len(third.context["rows"]) == 20 and third.context["next_query"] is None
    every = [t["name"] for page in (first, second, third) for t in page.context["rows"]]
    assert every == sorted(every, key=str.casefold) and len(set(every)) == 120
    back = marketer_http.get(f"{URL}?{third.context['previous_query']}")
    assert names(back) == names(second) and back.context["next_query"]
    last = marketer_http.get(URL, {"last": "1"})
    assert names(last) == every[-50:] and last.context["next_query"] is None and last.context["first_query"] == ""
    html = last.content.decode()
    assert 'rel="first"' in html and 'rel="prev"' in html and 'aria-disabled="true">Next' in html


def test_old_numbered_links_still_work(marketer_http):
    tags_bulk(location_make("loc-a", "Acme"), 120)
    last = marketer_http.get(URL, {"page": "3"})
    assert len(last.context["rows"]) == 20 and last.context["previous_query"] == "page=2"
    assert "Page 3 of 3" in last.content.decode()
    assert marketer_http.get(URL, {"page": "99"}).context["page"] == 3
    assert marketer_http.get(URL, {"page": "x"}).context["page"] == 1


@pytest.mark.parametrize("cursor", ["garbage!!", "WyJuYW1lIiwiYSJd", "WyItbmFtZSIsImEiLDFd", "W251bGwsbnVsbCwiMSJd"])
def test_a_damaged_cursor_shows_the_first_page_and_says_so(marketer_http, acme, cursor):
    response = marketer_http.get(URL, {"after": cursor})
    assert response.status_code == 200 and names(response)[0] == "apple pie"
    assert "start again from the first page" in response.content.decode()


def test_the_partial_answer_is_just_the_results(marketer_http, acme):
    html = marketer_http.get(URL, {"q": "apple", "partial": "1"}).content.decode()
    assert "<html" not in html and "apple pie" in html and "Banana" not in html


def test_the_list_runs_a_fixed_number_of_queries(marketer_http, django_assert_max_num_queries):
    tags_bulk(location_make("loc-a", "Acme"), 30)
    tags_bulk(location_make("loc-big", "Big"), 1500)
    for url in (URL, "/locations/loc-big/tags/"):
        for params in ({"q": "a", "sort": "-updated_at"}, {"page": "2", "status": "new"}, {"sort": "-first_seen_at"}):
            # session, user, 2 permissions, location, count, ids (2 for a nullable sort's two ranges), rows, runs;
            # a 1-2 character search counts nothing but reads the end of its window per range (2 + 2 for ids)
            with django_assert_max_num_queries(11):
                assert marketer_http.get(url, params).status_code == 200


def test_an_unknown_location_is_404(marketer_http):
    assert marketer_http.get("/locations/nope/tags/").status_code == 404


def test_the_detail_page_shows_fields_raw_json_history_and_posts(marketer_http, acme):
    tag = tag_make(acme, "Spring", details={"name": "Spring", "locationId": "loc-a", "createdBy": {"name": "Ann"},
                                            "aliases": ["spr", "sp"], "deleted": False})
    event_make(acme, tag, Event.Type.TAG_CREATED)
    event_make(acme, tag, Event.Type.TAG_UPDATED, previous_name="Sprung", changed=["name"])
    post_make(acme, "p1", tag_ids=[tag.tag_id], status="scheduled", summary="Spring menu is here")
    post_make(acme, "p2", tag_ids=["other"], summary="Not this one")
    html = marketer_http.get(f"/locations/loc-a/tags/{tag.tag_id}/?back=q%3Dspr").content.decode()
    assert "Created by &gt; Name" in html and "Ann" in html and "spr, sp" in html
    assert "<dt>Deleted</dt><dd>No</dd>" in html
    assert "<details" in html and "&quot;locationId&quot;: &quot;loc-a&quot;" in html
    assert "renamed from “Sprung”" in html and "Created (first seen)" in html
    assert "Spring menu is here" in html and "Scheduled" in html and "Not this one" not in html
    assert 'href="/locations/loc-a/tags/?q=spr"' in html


def test_the_posts_list_shows_status_platform_date_thumbnail_and_insights_with_n_a_apart_from_0(marketer_http, acme):
    tag = tag_make(acme, "Spring")
    when = datetime(2025, 3, 2, 18, 30, tzinfo=UTC)
    post_make(acme, "p1", tag_ids=[tag.tag_id], when=when, platform="linkedin", likes=1234, comments=0, shares=5,
              thumbnail="https://cdn.example.com/p1.jpg", summary="Spring menu is here")
    post_make(acme, "p2", tag_ids=[tag.tag_id], platform="tiktok", summary="No insights on TikTok")
    post_make(acme, "p3", tag_ids=[tag.tag_id], status="failed", published_at=None, platform="instagram",
              error="The aspect ratio of the image is not supported.", summary="Failed one")
    html = marketer_http.get(f"/locations/loc-a/tags/{tag.tag_id}/").content.decode()
    rows = {post_id: html.split(f'data-post-id="{post_id}"')[1].split("</tr>")[0] for post_id in ("p1", "p2", "p3")}
    assert "LinkedIn" in rows["p1"] and 'src="https://cdn.example.com/p1.jpg"' in rows["p1"]
    assert 'referrerpolicy="no-referrer"' in rows["p1"]
    assert ">1,234<" in rows["p1"] and ">0<" in rows["p1"] and ">5<" in rows["p1"] and "n/a" not in rows["p1"]
    assert rows["p2"].count("n/a") == 3 and "TikTok" in rows["p2"]
    assert "Failed" in rows["p3"] and "The aspect ratio of the image is not supported." in rows["p3"]
    assert "(not published)" in rows["p3"]
    local = when.astimezone(ZoneInfo(acme.timezone)).strftime("%Y-%m-%d %H:%M")
    assert local in rows["p1"]  # in the location's time zone


def test_a_tag_of_another_location_is_404(marketer_http, acme):
    other = location_make("loc-b", "Other")
    tag_make(other, "Hidden", tag_id="t-hidden")
    assert marketer_http.get("/locations/loc-a/tags/t-hidden/").status_code == 404


def test_refresh_now_enqueues_a_run_for_admins(admin_http, acme, monkeypatch):
    queued = []
    monkeypatch.setattr("integrations.sync.services.enqueue_units", queued.extend)
    response = admin_http.post("/locations/loc-a/refresh/")
    assert response.status_code == 302 and response["Location"] == URL
    run = SyncRun.objects.get(kind=SyncRun.Kind.LOCATION)
    assert len(queued) == 3 and run.location == acme
    page = admin_http.get(URL)
    assert page.context["run_id"] == run.pk and "A refresh is under way" in page.content.decode()


def test_refresh_now_is_refused_to_marketers_and_for_a_dead_connection(marketer_http, admin_user, acme, client):
    assert marketer_http.post("/locations/loc-a/refresh/").status_code == 403
    assert "Refresh now" not in marketer_http.get(URL).content.decode()
    Connection.objects.update(status=Connection.Status.REVOKED)
    client.force_login(admin_user)
    response = client.post("/locations/loc-a/refresh/", follow=True)
    assert "cannot sync" in response.content.decode() and not SyncRun.objects.exists()


def planner_statistics() -> None:
    """PostgreSQL narrows a search by its planner's estimate: fresh statistics, as autovacuum keeps them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE integrations_tag")


def test_a_search_count_stops_at_the_cap_and_says_more_than(marketer_http, monkeypatch):
    monkeypatch.setattr("dashboard.selectors.tags.SEARCH_COUNT_CAP", 60)
    monkeypatch.setattr("integrations.tag_search.CANDIDATE_LIMIT", 10)  # too common for the index: walked, capped
    tags_bulk(location_make("loc-a", "Acme"), 200)
    planner_statistics()
    capped = marketer_http.get(URL, {"q": "-00"})  # in every name
    assert (capped.context["count"], capped.context["exact"]) == (60, False) and capped.context["next_query"]
    assert "more than 60 tags" in capped.content.decode()
    seen = []
    page = capped
    while True:  # the pages go on past the cap
        seen += names(page)
        if not page.context["next_query"]:
            break
        page = marketer_http.get(f"{URL}?{page.context['next_query']}")
    assert len(seen) == len(set(seen)) == 200
    assert marketer_http.get(URL).context["exact"] is True


def test_a_failed_refresh_shows_its_internal_error_to_admins_only(marketer_http, admin_user):
    from django.test import Client

    from integrations.models import Location
    from tests.dashboard.browsing_factories import location_make

    location_make("loc-err", "Errand", status="failed")
    Location.objects.filter(location_id="loc-err").update(last_sync_error="HighLevelError: 500 traceId=t-9z8y7x")
    for url in ("/", "/locations/loc-err/tags/"):
        assert b"t-9z8y7x" not in marketer_http.get(url).content
    admin = Client()
    admin.force_login(admin_user)
    assert b"t-9z8y7x" in admin.get("/locations/loc-err/tags/").content
    assert b"t-9z8y7x" in admin.get("/").content


def test_a_search_on_one_page_is_not_counted_again(marketer_http, acme, django_assert_num_queries):
    # session, user, 2 permissions, location, the end of a short search's window, ids, rows, runs: no count
    with django_assert_num_queries(9):
        response = marketer_http.get(URL, {"q": "an"})
    assert (response.context["count"], response.context["exact"]) == (1, True) and names(response) == ["Banana"]


def test_a_short_search_in_a_big_location_reads_a_window_per_page_and_says_so(marketer_http, monkeypatch):
    monkeypatch.setattr("dashboard.selectors.tags.SHORT_SEARCH_ROWS", 60)
    location = location_make("loc-a", "Acme")
    tags_bulk(location, 200)
    Location.objects.filter(pk=location.pk).update(tag_count_active=190, tag_count_removed=10)  # as a sync stores
    expected = list(Tag.objects.filter(location=location, sort_name__contains="19").order_by("sort_name", "id")
                    .values_list("name", flat=True))
    page = marketer_http.get(URL, {"q": "19"})  # in 12 names of 200
    assert page.context["cut"] and page.context["exact"] is False and page.context["next_query"]
    assert "among the 60 tags read for this page" in page.content.decode()
    seen = []
    while True:
        seen += names(page)
        if not page.context["next_query"]:
            break
        page = marketer_http.get(f"{URL}?{page.context['next_query']}")
    assert seen == expected
    api = marketer_http.get("/api/v1/locations/loc-a/tags/?q=19").json()
    assert api["partial"] is True and api["count_exact"] is False and api["next"]
    # the same search where the sync counted few tags reads the whole list at once, and counts
    Location.objects.filter(pk=location.pk).update(tag_count_active=50, tag_count_removed=0)
    whole = marketer_http.get(URL, {"q": "19"})
    assert not whole.context["cut"] and names(whole) == expected and whole.context["count"] == len(expected) == 12


@pytest.mark.parametrize("sort", ["name", "-updated_at"])
def test_a_search_the_index_narrows_is_counted_exactly_by_its_first_page(marketer_http, monkeypatch, sort,
                                                                          django_assert_num_queries):
    monkeypatch.setattr("dashboard.selectors.tags.SEARCH_COUNT_CAP", 60)  # no capped count is made
    location = location_make("loc-a", "Acme")
    tags_bulk(location, 200)
    Tag.objects.filter(location=location, tag_id__endswith="7").update(updated_at=None)  # nulls among the matches
    # session, user, 2 permissions, location, narrow?, ids (one query, nulls and all), rows, runs
    with django_assert_num_queries(9):
        first = marketer_http.get(URL, {"q": "-00", "sort": sort})  # 200 matches: the index narrows
    assert (first.context["count"], first.context["exact"]) == (200, True) and len(names(first)) == 50
    last = marketer_http.get(URL, {"q": "-00", "sort": sort, "last": "1"})
    assert (last.context["count"], last.context["exact"]) == (200, True)
    # The pages in the list's own order, nulls where the unsearched list's keyset pages put them.
    listed = tags_for_location(location=location, filters=TagFilter(sort=sort))
    everything = keyset_page(listed, sort=sort, size=200).rows
    assert names(first) == [t.name for t in everything if "-00" in t.sort_name][:50]
    assert names(last) == [t.name for t in everything if "-00" in t.sort_name][-50:]


def test_a_capped_search_count_walks_the_lists_own_order(monkeypatch):
    """Where the page just found its matches: unordered, SQLite counted along the name index, which can hold
    none of them for most of its length (`er-t` before the "offer-t…" names at 1,000,000 tags)."""
    from django.test.utils import CaptureQueriesContext

    from dashboard.selectors.tags import tags_total

    monkeypatch.setattr("integrations.tag_search.CANDIDATE_LIMIT", 10)  # too common for the index: walked
    location = location_make("loc-a", "Acme")
    tags_bulk(location, 200)
    planner_statistics()
    filters = TagFilter(q="-00", sort="first_seen_at")
    tags = tags_for_location(location=location, filters=filters)
    with CaptureQueriesContext(connection) as queries:
        assert tags_total(location, filters, tags) == (200, True)
    (count,) = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert 'ORDER BY "integrations_tag"."first_seen_at" ASC' in count
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {count}")
            assert "tag_loc_first_seen" in str(cursor.fetchall())


def test_a_narrowed_search_is_counted_unordered_up_to_the_cap(monkeypatch):
    """Its order is an expression that reads and sorts every match; unordered, the count stops at the cap."""
    from django.test.utils import CaptureQueriesContext

    from dashboard.selectors.tags import tags_total

    monkeypatch.setattr("dashboard.selectors.tags.SEARCH_COUNT_CAP", 60)
    location = location_make("loc-a", "Acme")
    tags_bulk(location, 200)
    filters = TagFilter(q="-00", sort="-updated_at")  # 200 matches: the index narrows
    tags = tags_for_location(location=location, filters=filters)
    with CaptureQueriesContext(connection) as queries:
        assert tags_total(location, filters, tags) == (60, False)
    (count,) = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert "ORDER BY" not in count and "LIMIT 61" in count
