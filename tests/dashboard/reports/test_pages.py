"""The report pages: building a report (location or campaign), reading it without any HighLevel request,
its PDF and CSV, and who may do what."""

from __future__ import annotations

import csv as csv_module
import io
from datetime import UTC, datetime

import pytest
import responses

from dashboard.reports.models import Report
from dashboard.reports.snapshot import report_snapshot
from dashboard.selectors.campaigns import campaign_slug, campaign_tags
from tests.dashboard.browsing_factories import location_make, post_make, tag_make
from tests.dashboard.reports.conftest import NOW, fill_location, report_make

FORM = {"name": "Acme: monthly social report", "subject": "location", "period": "last_month",
        "sections": ["kpis", "charts", "posts", "note"], "note": "Great month.", "cadence": "monthly",
        "weekday": "0", "send_hour": "8", "recipients": "client@example.com"}


def test_a_marketer_builds_a_scheduled_monthly_report(full_location, marketer_http, clock):
    response = marketer_http.post("/reports/new/", {**FORM, "location": full_location.location_id}, follow=True)
    report = Report.objects.get()
    assert response.redirect_chain[-1][0] == f"/reports/{report.pk}/"
    assert report.location == full_location and report.sections == ["kpis", "charts", "posts", "note"]
    assert report.next_send_at == datetime(2026, 4, 1, 12, tzinfo=UTC)  # 08:00 EDT on the 1st
    assert "Acme: monthly social report" in response.text and "Great month." in response.text
    assert "1 Feb 2026 \u2013 28 Feb 2026" in response.text


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"location": ""}, "location", "Choose the location"),
    ({"subject": "campaign", "campaign": "No Such Tag"}, "campaign", "No location has a tag"),
    ({"period": "custom", "custom_start": "2026-02-10", "custom_end": "2026-02-01"}, "custom_end", "not be before"),
    ({"period": "custom"}, "custom_start", "needs both dates"),
    ({"recipients": ""}, "recipients", "needs at least one recipient"),
    ({"recipients": "client@example.com, nope"}, "recipients", "not an email address"),
    ({"period": "yesterday"}, "period", "valid choice"),
])
def test_the_form_says_what_is_wrong(full_location, marketer_http, changes, field, message):
    response = marketer_http.post("/reports/new/", {**FORM, "location": full_location.location_id, **changes})
    assert response.status_code == 200 and message in str(response.context["form"].errors[field])
    assert not Report.objects.exists()


def test_opening_a_report_its_pdf_and_csv_never_calls_highlevel(full_location, marketer_http):
    report = report_make(full_location)
    with responses.RequestsMock() as calls:
        page = marketer_http.get(f"/reports/{report.pk}/")
        pdf = marketer_http.get(f"/reports/{report.pk}/pdf/")
        csv = b"".join(marketer_http.get(f"/reports/{report.pk}/csv/").streaming_content)
        assert len(calls.calls) == 0
    assert page.status_code == 200 and "Key figures" in page.text and "data-print" in page.text
    policy = page["Content-Security-Policy"]
    assert "'unsafe-inline'" in policy and "script-src 'self'" in policy
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    header = next(csv_module.reader(io.StringIO(csv.decode())))
    assert header == ["section", "date", "platform", "name", "metric", "value", "previous_value", "change_pct"]


def test_the_report_list_and_its_empty_state(marketer_http, full_location):
    assert "No report yet" in marketer_http.get("/reports/").text
    report_make(full_location, name="Acme monthly")
    assert "Acme monthly" in marketer_http.get("/reports/").text


@pytest.fixture
def campaign_locations(db, clock):
    north = location_make("loc-north", "North Store", tz="Europe/London")
    south = location_make("loc-south", "South Store", tz="Europe/London")
    tag_make(north, "Spring Sale", tag_id="n-spring")
    tag_make(south, "spring  sale", tag_id="s-spring")
    tag_make(south, "Other", tag_id="s-other")
    post_make(north, "n1", tag_ids=["n-spring"], when=datetime(2026, 2, 3, 12, tzinfo=UTC), likes=10, comments=2,
              shares=1, summary="North spring post")
    post_make(south, "s1", tag_ids=["s-spring"], when=datetime(2026, 2, 4, 12, tzinfo=UTC), likes=30, comments=0,
              shares=0, summary="South spring post")
    post_make(south, "s2", tag_ids=["s-other"], when=datetime(2026, 2, 5, 12, tzinfo=UTC), likes=500, comments=0,
              shares=0, summary="Not in the campaign")
    return north, south


def test_a_campaign_is_the_tags_of_one_name_whatever_case_or_spaces(campaign_locations):
    north, south = campaign_locations
    assert campaign_slug(" Spring  SALE ") == campaign_slug("springsale")
    campaign = campaign_tags("SPRING SALE")
    assert campaign.tags == {north.pk: ["n-spring"], south.pk: ["s-spring"]}


def test_a_campaign_report_across_locations(campaign_locations, marketer_http):
    response = marketer_http.post("/reports/new/", {**FORM, "subject": "campaign", "campaign": "spring sale",
                                                    "sections": ["kpis", "posts", "scorecard"], "cadence": ""},
                                  follow=True)
    report = Report.objects.get()
    assert report.location is None and report.campaign == "spring sale"
    snapshot = report_snapshot(report, now=NOW)
    kpis = {k["metric"]: k["total"] for k in snapshot["kpis"]}
    assert kpis["posts"] == 2 and kpis["engagement"] == 43 and kpis["likes"] == 40
    assert [row["name"] for row in snapshot["scorecard"]["rows"]] == ["South Store", "North Store"]
    assert "Not in the campaign" not in response.text and "South spring post" in response.text
    assert "across 2 locations" in response.text


def test_a_partial_campaign_location_still_reports(campaign_locations, clock):
    north, _south = campaign_locations
    fill_location(north, posts=False)
    report = report_make(campaign="Spring Sale", sections=["kpis", "demographics"])
    snapshot = report_snapshot(report, now=NOW)
    assert snapshot["demographics"]["gender"] and snapshot["kpis"]


def test_anonymous_users_are_sent_to_sign_in(client, full_location):
    report = report_make(full_location)
    for url in (f"/reports/{report.pk}/", f"/reports/{report.pk}/pdf/", "/reports/links/"):
        assert "/accounts/login/" in client.get(url)["Location"]


def test_the_statistics_page_leads_to_a_report_for_its_location(full_location, marketer_http):
    page = marketer_http.get(f"/locations/{full_location.location_id}/statistics/")
    assert f"/reports/new/?location={full_location.location_id}" in page.text
    form = marketer_http.get(f"/reports/new/?location={full_location.location_id}").context["form"]
    assert f'value="{full_location.location_id}" selected' in str(form["location"])
