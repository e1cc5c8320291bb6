"""The JSON API (README.md): shapes, pagination, filters, errors, tokens, runs and the admin's refresh."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from dashboard.api_tokens import api_token_issue
from integrations.models import Connection, SyncRun
from tests.dashboard.browsing_factories import (
    accounts_make,
    demographics_make,
    location_make,
    statistics_make,
    tag_make,
    tags_bulk,
)

pytestmark = pytest.mark.django_db
TAG_KEYS = {"id", "name", "created_at", "updated_at", "first_seen_at", "removed_at", "is_new"}


@pytest.fixture
def acme():
    location = location_make("loc-a", "Acme")
    now = timezone.now()
    tag_make(location, "Fresh", tag_id="t-fresh", first_seen=now - timedelta(days=1), details={"name": "Fresh", "x": 1})
    tag_make(location, "Old", tag_id="t-old", baseline=True)
    tag_make(location, "Gone", tag_id="t-gone", removed=now)
    return location


def test_locations_list_shape(marketer_http, acme):
    body = marketer_http.get("/api/v1/locations/").json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    assert body["results"] == [{"id": "loc-a", "name": "Acme", "connection_id": acme.connection_id, "tag_count": 2,
                                "new_tag_count": 1, "last_synced_at": acme.last_synced_at.isoformat(),
                                "sync_status": "succeeded", "needs_attention": [], "goals": []}]


def test_tags_list_shape_filters_and_is_new(marketer_http, acme):
    body = marketer_http.get("/api/v1/locations/loc-a/tags/").json()
    assert [t["id"] for t in body["results"]] == ["t-fresh", "t-gone", "t-old"]
    assert set(body["results"][0]) == TAG_KEYS and body["results"][0]["is_new"] is True
    assert [t["id"] for t in marketer_http.get("/api/v1/locations/loc-a/tags/?status=new").json()["results"]] == [
        "t-fresh"]
    assert marketer_http.get("/api/v1/locations/loc-a/tags/?status=removed").json()["count"] == 1
    assert marketer_http.get("/api/v1/locations/loc-a/tags/?q=OL&sort=-name").json()["results"][0]["id"] == "t-old"


def test_tags_pagination_links(marketer_http):
    tags_bulk(location_make("loc-a", "Acme"), 25)
    first = marketer_http.get("/api/v1/locations/loc-a/tags/?page_size=10&sort=-first_seen_at").json()
    assert first["count"] == 25 and first["count_exact"] is True and len(first["results"]) == 10
    assert first["previous"] is None and "after=" in first["next"] and "page_size=10" in first["next"]
    second = marketer_http.get(first["next"]).json()
    third = marketer_http.get(second["next"]).json()
    assert len(third["results"]) == 5 and third["next"] is None
    ids = [t["id"] for page in (first, second, third) for t in page["results"]]
    assert len(set(ids)) == 25
    assert [t["id"] for t in marketer_http.get(third["previous"]).json()["results"]] == ids[10:20]
    assert [t["id"] for t in marketer_http.get(first["last"]).json()["results"]] == ids[15:]
    assert marketer_http.get("/api/v1/locations/loc-a/tags/?page_size=501").status_code == 400


def test_numbered_tag_pages_still_work(marketer_http):
    tags_bulk(location_make("loc-a", "Acme"), 25)
    first = marketer_http.get("/api/v1/locations/loc-a/tags/?page_size=10&sort=-first_seen_at&page=1").json()
    assert first["next"].endswith("page_size=10&sort=-first_seen_at&page=2")
    last = marketer_http.get("/api/v1/locations/loc-a/tags/?page_size=10&sort=-first_seen_at&page=3").json()
    assert len(last["results"]) == 5 and last["next"] is None and "page=2" in last["previous"]


@pytest.mark.parametrize("params", ["after=garbage", "before=WyJuYW1lIiwiYSIsMV0", "after=WyItbmFtZSIsImEiLDFd&last=1"])
def test_bad_tag_cursors_are_json_400s(marketer_http, acme, params):
    response = marketer_http.get(f"/api/v1/locations/loc-a/tags/?sort=-name&{params}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("params", ["sort=size", "status=gone", "page=0", "page_size=x"])
def test_bad_tag_queries_are_json_400s(marketer_http, acme, params):
    response = marketer_http.get(f"/api/v1/locations/loc-a/tags/?{params}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


def test_tag_detail_has_the_details(marketer_http, acme):
    body = marketer_http.get("/api/v1/locations/loc-a/tags/t-fresh/").json()
    assert body["details"] == {"name": "Fresh", "x": 1} and set(body) > TAG_KEYS
    missing = marketer_http.get("/api/v1/locations/loc-a/tags/t-nope/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert marketer_http.get("/api/v1/locations/loc-zz/tags/").status_code == 404


def test_statistics_shape(marketer_http, acme):
    end = date(2026, 3, 31)
    statistics_make(acme, end=end, days=10, accounts=accounts_make(acme, platforms=("facebook",)), value=5.0)
    demographics_make(acme, end=end)
    with time_machine.travel(datetime(2026, 3, 31, 18, 0, tzinfo=UTC), tick=False):
        body = marketer_http.get("/api/v1/locations/loc-a/statistics/?start=2026-03-25&end=2026-03-31"
                                 "&compare=previous").json()
        default = marketer_http.get("/api/v1/locations/loc-a/statistics/").json()
    assert (body["start"], body["end"], body["timezone"]) == ("2026-03-25", "2026-03-31", "America/New_York")
    likes = body["metrics"]["likes"]
    assert set(likes) == {"total", "previous_total", "change_pct", "series", "by_platform", "previous_series"}
    assert likes["previous_series"][-1] == {"date": "2026-03-24", "value": 5}  # the documented keys, and this one
    assert likes["total"] == 35 and likes["previous_total"] == 15 and likes["change_pct"] == 133.3
    assert likes["series"][0] == {"date": "2026-03-25", "value": 5}
    assert set(likes["by_platform"]["facebook"]) == {"total", "series"}
    assert body["demographics"]["gender"]["female"] == 55
    assert (default["start"], default["end"], default["compare"]) == ("2026-03-02", "2026-03-31", False)


@pytest.mark.parametrize("params", ["start=2026-13-01&end=2026-03-01", "range=year", "account=nope", "format=pdf"])
def test_bad_statistics_queries_are_json_400s(marketer_http, acme, params):
    response = marketer_http.get(f"/api/v1/locations/loc-a/statistics/?{params}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


def test_agency_statistics_rank(marketer_http, acme):
    body = marketer_http.get("/api/v1/statistics/?rank=likes").json()
    assert body["ranking"][0]["id"] == "loc-a" and "metrics" in body
    assert marketer_http.get("/api/v1/statistics/?rank=nope").status_code == 400


def test_a_personal_token_reads_the_api(marketer_user, acme, client):
    _, raw = api_token_issue(user=marketer_user, name="script")
    assert client.get("/api/v1/locations/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["count"] == 1
    assert client.get("/api/v1/locations/").status_code == 401


def test_refresh_is_for_admins_and_answers_202_with_the_run(admin_user, marketer_user, acme, client, monkeypatch):
    monkeypatch.setattr("integrations.sync.services.enqueue_units", lambda run_ids: None)
    _, marketer = api_token_issue(user=marketer_user, name="m")
    _, admin = api_token_issue(user=admin_user, name="a")
    refused = client.post("/api/v1/locations/loc-a/refresh/", HTTP_AUTHORIZATION=f"Bearer {marketer}")
    assert refused.status_code == 403
    answer = client.post("/api/v1/locations/loc-a/refresh/", HTTP_AUTHORIZATION=f"Bearer {admin}")
    assert answer.status_code == 202
    run = answer.json()
    assert set(run) == {"id", "kind", "status", "progress", "attempt", "next_attempt_at", "started_at",
                        "finished_at", "counts", "error"}
    assert run["status"] == "queued" and run["progress"] == {"done": 0, "total": 3}
    assert run["attempt"] == 0 and run["next_attempt_at"] is None
    polled = client.get(f"/api/v1/runs/{run['id']}/", HTTP_AUTHORIZATION=f"Bearer {admin}").json()
    assert polled == run
    assert client.get("/api/v1/locations/loc-a/refresh/", HTTP_AUTHORIZATION=f"Bearer {admin}").status_code == 405
    Connection.objects.update(status=Connection.Status.NEEDS_RECONNECT)
    conflict = client.post("/api/v1/locations/loc-a/refresh/", HTTP_AUTHORIZATION=f"Bearer {admin}")
    assert conflict.status_code == 409 and SyncRun.objects.filter(parent__isnull=True).count() == 1


def test_a_session_refresh_needs_csrf(admin_user, acme):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post("/api/v1/locations/loc-a/refresh/").json()["error"]["code"] == "csrf_failed"


def test_api_reads_run_a_fixed_number_of_queries(marketer_http, django_assert_max_num_queries):
    tags_bulk(location_make("loc-a", "Acme"), 700)
    with django_assert_max_num_queries(8):
        marketer_http.get("/api/v1/locations/loc-a/tags/?page=5&sort=-updated_at&q=a")
    with django_assert_max_num_queries(11):
        marketer_http.get("/api/v1/locations/")
    with django_assert_max_num_queries(10):
        marketer_http.get("/api/v1/locations/loc-a/statistics/?compare=previous")


def test_a_marketer_sees_only_a_runs_status_and_progress_never_its_error(admin_user, marketer_user, acme, client):
    run = SyncRun.objects.create(kind=SyncRun.Kind.TAGS, status=SyncRun.Status.FAILED, progress_done=1,
                                 progress_total=3, counts={"created": 4},
                                 error="HighLevelError: 500 from https://services.example/internal?traceId=abc")
    _, marketer = api_token_issue(user=marketer_user, name="m")
    _, admin = api_token_issue(user=admin_user, name="a")
    seen = client.get(f"/api/v1/runs/{run.pk}/", HTTP_AUTHORIZATION=f"Bearer {marketer}").json()
    assert seen == {"id": run.pk, "status": "failed", "progress": {"done": 1, "total": 3}, "attempt": 0,
                    "next_attempt_at": None}
    full = client.get(f"/api/v1/runs/{run.pk}/", HTTP_AUTHORIZATION=f"Bearer {admin}").json()
    assert full["error"].startswith("HighLevelError") and full["counts"] == {"created": 4}
