"""The scorecard's lift (page, PDF, CSV), the PDF and CSV of a report whose subject is gone, and a share page
whose charts are drawn once per snapshot."""

from __future__ import annotations

from unittest import mock

from django.core.cache import cache

from dashboard.reports import render
from dashboard.reports.models import Branding
from dashboard.reports.render import report_csv_rows, report_html, report_pdf
from dashboard.reports.share import share_link_create
from dashboard.reports.snapshot import report_snapshot
from tests.dashboard.reports.conftest import NOW, report_make
from tests.dashboard.reports.test_render import pdf_text


def test_the_scorecard_shows_each_tags_lift_on_the_page_the_pdf_and_the_csv(full_location):
    snapshot = report_snapshot(report_make(full_location, sections=["scorecard"]), now=NOW)
    lifts = {row["name"]: row["lift_pct"] for row in snapshot["scorecard"]["rows"]}
    assert any(v is not None for v in lifts.values())
    name, lift = next((n, v) for n, v in lifts.items() if v is not None)
    shown = f"{'+' if lift >= 0 else ''}{lift}%"
    html = report_html(snapshot)
    assert ">Lift</th>" in html and shown in html
    assert "Lift" in pdf_text(report_pdf(snapshot)) and shown in pdf_text(report_pdf(snapshot))
    assert any(row[0] == "scorecard_tag" and row[3:6] == [name, "lift_pct", lift] for row in report_csv_rows(snapshot))


def test_the_pdf_and_csv_of_a_report_whose_campaign_is_gone_go_back_to_its_page(db, marketer_http):
    report = report_make(campaign="Nothing carries this")
    for suffix in ("pdf/", "csv/"):
        response = marketer_http.get(f"/reports/{report.pk}/{suffix}", follow=True)
        assert response.redirect_chain[-1][0] == f"/reports/{report.pk}/"
        assert "any more" in response.text


def test_a_share_page_draws_its_charts_once(full_location, client):
    cache.clear()
    _link, token = share_link_create(user=None, now=NOW, report=report_make(full_location))
    with mock.patch.object(render, "metric_chart", wraps=render.metric_chart) as drawn:
        first = client.get(f"/share/{token}/")
        count = drawn.call_count
        second = client.get(f"/share/{token}/")
    assert count >= 7 and drawn.call_count == count  # the second view drew nothing
    assert first.text.count("<svg") == second.text.count("<svg") == count


def test_a_new_accent_draws_the_share_pages_charts_again(full_location, client):
    cache.clear()
    _link, token = share_link_create(user=None, now=NOW, report=report_make(full_location))
    client.get(f"/share/{token}/")
    branding = Branding.current()
    branding.accent = "#aa3300"
    branding.save()
    assert "#aa3300" in client.get(f"/share/{token}/").text
