"""Every section of a report rendered with full, partial and empty data: the HTML page, the PDF (its text
read back with pypdf) and the CSV."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from dashboard.reports.render import report_csv_rows, report_html, report_pdf
from dashboard.reports.snapshot import report_snapshot
from tests.dashboard.reports.conftest import NOW, report_make


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_full_report_shows_every_section(full_location):
    snapshot = report_snapshot(report_make(full_location), now=NOW)
    assert snapshot["period"]["start"] == "2026-02-01" and snapshot["period"]["end"] == "2026-02-28"
    assert snapshot["period"]["previous_start"] == "2026-01-04"
    html = report_html(snapshot)
    for heading in ("Key figures", "Per day, by platform", "Audience", "Top and bottom posts", "Tag scorecard",
                    "Notes from your team"):
        assert heading in html
    impressions = next(k for k in snapshot["kpis"] if k["metric"] == "impressions")
    assert impressions["total"] > 0 and impressions["change_pct"] is not None
    assert html.count("<svg") == len(snapshot["metrics"]) >= 7
    top = snapshot["posts"]["top"]
    assert [p["engagement"] for p in top] == sorted((p["engagement"] for p in top), reverse=True)
    assert top[0]["summary"] == "Post number 11" and top[0]["engagement"] == 110 + 11 + 1
    assert snapshot["posts"]["published"] == 12 and snapshot["posts"]["with_insights"] == 11  # post 5: none
    assert "Post number 5" not in html  # no insights: counted, not ranked
    assert 999 not in [p["engagement"] for p in top]  # a failed post is not a published one
    names = {row["name"]: row for row in snapshot["scorecard"]["rows"]}
    assert set(names) == {"Spring Sale", "Tips"} and names["Spring Sale"]["posts"] == 6
    assert names["Spring Sale"]["previous_engagement_per_post"] == 4.0
    assert "Male" in html and "25-34" in html


def test_a_report_with_statistics_only_says_what_is_missing(partial_location):
    html = report_html(report_snapshot(report_make(partial_location), now=NOW))
    assert "Key figures" in html and "<svg" in html
    assert "HighLevel has not reported demographics" in html
    assert "No posts were published in this period." in html
    assert "No tagged posts were published in this period." in html


def test_an_empty_report_renders_with_empty_states(empty_location):
    snapshot = report_snapshot(report_make(empty_location, note=""), now=NOW)
    html = report_html(snapshot)
    assert "No figures are stored for this period yet." in html
    assert "No daily figures are stored for this period yet." in html
    assert "Notes from your team" not in html  # an empty note leaves its section out
    assert list(report_csv_rows(snapshot)) == [list(next(iter(report_csv_rows(snapshot))))]


def test_only_the_chosen_sections_are_rendered(full_location):
    html = report_html(report_snapshot(report_make(full_location, sections=["kpis", "note"]), now=NOW))
    assert "Key figures" in html and "Notes from your team" in html
    assert "<svg" not in html and "Top and bottom posts" not in html and "Tag scorecard" not in html


@pytest.mark.parametrize("fixture", ["full_location", "partial_location", "empty_location"])
def test_the_pdf_reads_back_with_the_reports_text(fixture, request):
    location = request.getfixturevalue(fixture)
    snapshot = report_snapshot(report_make(location, name="Client report for March"), now=NOW)
    data = report_pdf(snapshot)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "Client report for March" in text and location.name in text
    assert "Key figures" in text
    if fixture == "full_location":
        assert "Post number 11" in text and "Spring Sale" in text and "Strong month for Spring Sale." in text
    if fixture == "empty_location":
        assert "No figures are stored for this period yet." in text


def test_the_csv_carries_the_data_behind_the_report(full_location):
    snapshot = report_snapshot(report_make(full_location), now=NOW)
    rows = list(report_csv_rows(snapshot))
    sections = {row[0] for row in rows[1:]}
    assert {"kpi", "daily", "top_post", "bottom_post", "scorecard_tag", "demographics"} <= sections
    daily = [r for r in rows if r[0] == "daily" and r[4] == "impressions" and r[2] == "all"]
    assert len(daily) == 28
    kpi = next(r for r in rows if r[0] == "kpi" and r[4] == "impressions")
    assert kpi[5] == sum(r[5] for r in daily)


def test_goals_show_with_their_pacing_when_set_and_not_at_all_when_not(full_location, empty_location):
    from integrations.models.goals import Goal

    Goal.objects.create(location=full_location, kind=Goal.Kind.IMPRESSIONS, target=31_000)
    Goal.objects.create(location=full_location, kind=Goal.Kind.POSTS_PER_WEEK, platform="instagram", target=3)
    with_goals = report_snapshot(report_make(full_location, sections=["goals"]), now=NOW)
    assert {g["kind"] for g in with_goals["goals"]} == {"impressions_per_month", "posts_per_week"}
    html = report_html(with_goals)
    assert "Goals" in html and "Impressions per month" in html and "31,000" in html and "Instagram" in html
    assert "Pacing on 10 Mar 2026" in html
    assert "Goals" in pdf_text(report_pdf(with_goals))
    without = report_snapshot(report_make(empty_location, sections=["kpis", "goals"]), now=NOW)
    assert without["goals"] == [] and 'id="s-goals"' not in report_html(without)


def test_demographics_answered_after_the_period_stand_in_with_their_date(partial_location):
    from datetime import date

    from tests.dashboard.browsing_factories import demographics_make

    demographics_make(partial_location, end=date(2026, 3, 9))  # after February: the only answer there is
    snapshot = report_snapshot(report_make(partial_location, sections=["demographics"]), now=NOW)
    assert snapshot["demographics"]["as_of"] == "2026-03-09"
    assert "As reported by HighLevel up to 9 Mar 2026." in report_html(snapshot)
