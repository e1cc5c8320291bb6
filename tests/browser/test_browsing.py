"""A user browses in Chromium: overview, search tags as they type, open a tag, refresh with live progress,
switch ranges and platforms on the statistics page (the numbers change), export a CSV and read it back."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.selectors.statistics_range import location_today
from integrations.models import SyncRun
from tests.dashboard.browsing_factories import (
    accounts_make,
    demographics_make,
    location_make,
    post_make,
    statistics_make,
    tag_make,
    tags_bulk,
)

pytestmark = pytest.mark.browser


def _world():
    location = location_make("loc-acme", "Acme Bakery")
    location_make("loc-bistro", "Bistro Central", synced_at=timezone.now() - timedelta(days=2), status="failed")
    tags_bulk(location, 180)
    tag = tag_make(location, "promo-spring-launch", tag_id="t-spring", first_seen=timezone.now() - timedelta(days=1),
                   details={"name": "promo-spring-launch", "locationId": "loc-acme", "createdBy": {"name": "Ann"}})
    post_make(location, "p1", tag_ids=[tag.tag_id], summary="Spring menu is here")
    end = location_today(location)
    accounts = accounts_make(location, platforms=("facebook", "instagram", "google"))
    statistics_make(location, end=end, days=70, accounts=accounts, gaps={end - timedelta(days=3)})
    demographics_make(location, end=end)
    return location


def _total(page, metric: str) -> str:
    return page.locator(f'#stat-cards [data-metric="{metric}"]').get_attribute("data-total")


def test_a_user_searches_opens_refreshes_charts_and_exports(page, live_server, signed_in_page, screenshots,
                                                            monkeypatch):
    monkeypatch.setattr("integrations.sync.services.enqueue_units", lambda run_ids: None)
    _world()
    signed_in_page("admin@example.com", "Admin")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("link", name="Acme Bakery")).to_be_visible()
    expect(page.get_by_text("Stale")).to_be_visible()
    screenshots(page, "browsing-01-overview")

    page.get_by_role("link", name="Acme Bakery").click()
    page.get_by_label("Search tags").press_sequentially("promo", delay=30)
    page.wait_for_url("**/tags/?q=promo")
    page.wait_for_function("() => document.querySelector('#tag-results').getAttribute('aria-busy') === 'false'")
    names = page.locator("table[data-testid=tags] tbody th a").all_inner_texts()
    assert names and all("promo" in n for n in names)
    page.get_by_label("Sort by").select_option("-first_seen_at")
    page.wait_for_url("**/tags/?q=promo&sort=-first_seen_at")
    page.wait_for_function("() => document.querySelector('#tag-results').getAttribute('aria-busy') === 'false'")
    assert page.locator("table[data-testid=tags] tbody th a").first.inner_text() == "promo-spring-launch"
    screenshots(page, "browsing-02-tags-search")

    with page.expect_download() as download:
        page.get_by_test_id("export-tags").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["id", "name"] and rows[1][:2] == ["t-spring", "promo-spring-launch"]
    assert len(rows) - 1 == len(names) and all("promo" in r[1] for r in rows[1:])

    page.get_by_role("button", name="Refresh now").click()
    page.wait_for_selector("#refresh-status:not([hidden])")
    page.wait_for_function("() => document.getElementById('refresh-text').textContent.includes('Queued')")
    screenshots(page, "browsing-03-refresh-progress")
    run = SyncRun.objects.get(parent__isnull=True)
    with page.expect_navigation():
        SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED, progress_done=3)
    assert page.url.endswith("/tags/?q=promo&sort=-first_seen_at")

    page.get_by_role("link", name="promo-spring-launch").click()
    expect(page.get_by_text("Spring menu is here")).to_be_visible()
    expect(page.get_by_test_id("detail-fields").get_by_text("Ann", exact=True)).to_be_visible()
    page.get_by_text("Raw JSON").click()
    expect(page.get_by_test_id("raw-details")).to_be_visible()
    screenshots(page, "browsing-04-tag-detail")
    page.get_by_role("link", name="Back to tags").click()
    page.wait_for_url("**/tags/?q=promo&sort=-first_seen_at")

    page.goto(f"{live_server.url}/locations/loc-acme/statistics/")
    page.wait_for_function("() => window.Chart && document.querySelector('#chart-impressions').offsetHeight > 0")
    thirty = _total(page, "impressions")
    expect(page.get_by_text("America/New_York").first).to_be_visible()
    # Followers are an audience size: lines, not stacked bars; the card is the all-platform line's last point.
    followers = page.evaluate("""() => { const chart = window.Chart.getChart('chart-followers');
        const all = chart.data.datasets.find(d => d.label === 'All platforms');
        return {types: chart.data.datasets.map(d => d.type), last: all.data.filter(v => v !== null).pop()}; }""")
    assert set(followers["types"]) == {"line"}
    assert float(_total(page, "followers")) == followers["last"]
    screenshots(page, "browsing-05-statistics-30d")
    page.get_by_label("Date range").select_option("7d")
    page.wait_for_function("() => document.getElementById('stats-root').dataset.state === 'ready' && "
                           "location.search.includes('range=7d')")
    seven = _total(page, "impressions")
    assert float(seven) < float(thirty)
    page.get_by_label("Platform", exact=True).select_option("google")
    page.wait_for_function("() => document.getElementById('stats-root').dataset.platform === 'google'")
    assert float(_total(page, "impressions")) < float(seven) and "platform=google" in page.url
    page.get_by_role("link", name="Show as tables").click()
    headers = page.locator('table[data-metric-table="impressions"] thead th').all_inner_texts()
    assert [h.casefold() for h in headers] == ["date", "all", "google"]
    gap = page.locator('table[data-metric-table="impressions"] tbody tr').nth(3).inner_text()
    assert gap.split("\t")[1] == "\u2013"  # a day without data is a gap (an en dash), not 0
    screenshots(page, "browsing-06-statistics-table")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV (daily rows)").click()
    daily = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert daily[0][:2] == ["date", "platform"] and len(daily) == 1 + 7 * 2 and {r[1] for r in daily[1:]} == {
        "all", "google"}

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/locations/loc-acme/statistics/?range=30d")
    page.wait_for_function("() => window.Chart && document.querySelector('#chart-impressions').offsetHeight > 0")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshots(page, "browsing-07-statistics-phone")
    page.goto(f"{live_server.url}/statistics/")
    expect(page.get_by_test_id("ranking").get_by_role("link", name="Acme Bakery")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshots(page, "browsing-08-agency-statistics")
