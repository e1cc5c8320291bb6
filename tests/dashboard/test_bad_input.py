"""Bad query values: a JSON 400 naming the parameter on the API; on pages, the page with its defaults and a
message saying what was ignored (a 400 page only when nothing of the address can be read, such as a NUL)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from integrations.models import SyncRun
from tests.dashboard.browsing_factories import accounts_make, location_make, statistics_make, tag_make

pytestmark = pytest.mark.django_db

HUGE = "9223372036854775807"


@pytest.fixture
def acme():
    location = location_make("loc-a", "Acme")
    tag_make(location, "apple pie", tag_id="t1")
    statistics_make(location, end=timezone.localdate(), days=7, accounts=accounts_make(location,
                                                                                       platforms=("facebook",)))
    return location


@pytest.mark.parametrize(("url", "query", "says"), [
    ("/api/v1/locations/loc-a/tags/", {"page": HUGE}, "page must be a whole number from 1 to 100000"),
    ("/api/v1/locations/loc-a/tags/", {"page": HUGE, "q": "a"}, "page must be a whole number"),
    ("/api/v1/locations/", {"page_size": "1e3"}, "page_size must be a whole number from 1 to 500"),
    ("/api/v1/locations/loc-a/tags/", {"sort": "colour"}, "sort must be one of name, -name"),
    ("/api/v1/locations/loc-a/tags/", {"format": "xml"}, "format must be one of json, csv"),
    ("/api/v1/locations/loc-a/statistics/", {"start": "0001-01-01", "end": "0001-01-02"},
     "start must be a real date as YYYY-MM-DD, between 2000-01-01 and 2099-12-31"),
    ("/api/v1/locations/loc-a/statistics/", {"start": "9999-12-31", "end": "9999-12-31"}, "start must be a real"),
    ("/api/v1/locations/loc-a/statistics/", {"start": "2026-02-30", "end": "2026-03-02"}, "start must be a real"),
    ("/api/v1/locations/loc-a/statistics/", {"range": "fortnight"}, "range must be one of 7d, 30d"),
    ("/api/v1/locations/loc-a/statistics/", {"compare": "yes"}, "compare must be one of previous, off"),
    ("/api/v1/statistics/", {"start": "2026-01-01", "end": "9999-12-31"}, "end must be a real date"),
    ("/api/v1/statistics/", {"rank": "vibes"}, "rank must be one of impressions"),
    ("/api/v1/locations/loc-a/tags/", {"q": "a\x00b"}, "NUL character"),
])
def test_the_api_answers_a_bad_value_with_a_json_400_naming_it(marketer_http, acme, url, query, says):
    response = marketer_http.get(url, query)
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "bad_request" and says in error["message"]


@pytest.mark.parametrize(("url", "query", "says"), [
    ("/locations/loc-a/tags/", {"page": HUGE, "q": "a"}, "page must be a whole number"),
    ("/locations/loc-a/tags/", {"sort": "colour", "status": "gone"}, "sort must be one of"),
    ("/locations/loc-a/statistics/", {"start": "0001-01-01", "end": "0001-01-31"}, "start must be a real date"),
    ("/locations/loc-a/statistics/", {"start": "2026-01-01", "end": "9999-12-31"}, "end must be a real date"),
    ("/locations/loc-a/statistics/", {"start": "2026-02-30", "end": "2026-03-02"}, "start must be a real date"),
    ("/locations/loc-a/statistics/", {"range": "fortnight"}, "range must be one of"),
    ("/statistics/", {"start": "0001-01-01", "end": "0001-01-02", "rank": "vibes"}, "rank must be one of"),
    ("/", {"q": "x" * 500}, None),
])
def test_a_page_given_a_bad_value_opens_with_its_defaults_and_says_what_was_ignored(marketer_http, acme, url,
                                                                                    query, says):
    response = marketer_http.get(url, query)
    assert response.status_code == 200
    html = response.content.decode()
    if says:
        assert "was ignored, and its default used" in html and says in html


def test_the_statistics_page_falls_back_to_the_last_30_days(marketer_http, acme):
    response = marketer_http.get("/locations/loc-a/statistics/", {"start": "0001-01-01", "end": "0001-01-31"})
    query = response.context["query"]
    assert query.preset == "30d" and query.length == 30 and query.start.year > 2000


@pytest.mark.parametrize("query", [{"until": "9999-12-31"}, {"since": "0001-01-01"}, {"page": HUGE},
                                   {"since": "2026-02-30"}])
def test_the_run_history_takes_absurd_dates_and_pages(admin_http, acme, query):
    SyncRun.objects.create(kind=SyncRun.Kind.TAGS, status=SyncRun.Status.SUCCEEDED, location=acme)
    response = admin_http.get("/operations/runs/", query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "left out of the filter" in html or "was ignored" in html


def test_a_nul_in_any_parameter_is_a_400_page_that_says_so(marketer_http, acme):
    response = marketer_http.get("/locations/loc-a/tags/", {"q": "a\x00"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This address cannot be read" in html and "NUL character" in html
    assert 'href="/locations/loc-a/tags/"' in html


def test_the_admin_refuses_an_empty_to_field_instead_of_failing(admin_http, acme):
    response = admin_http.get(f"/admin/integrations/location/{acme.pk}/change/", {"_to_field": ""})
    assert response.status_code == 400


@pytest.mark.parametrize("query", [{"code": "abc"}, {"code": "abc", "state": "x"}])
def test_an_oauth_callback_without_a_configured_app_says_so_instead_of_failing(admin_http, settings, query):
    settings.HIGHLEVEL_CLIENT_ID = settings.HIGHLEVEL_CLIENT_SECRET = ""
    response = admin_http.get("/connections/oauth/callback/", query, follow=True)
    assert response.status_code in (200, 403)
    if "state" not in query:
        assert "No HighLevel app is configured here" in response.content.decode()
