"""A marketer, new to Tagscope, finds the best and weakest tags of the last 90 days in one location, opens a
tag's charts, sees a campaign across its locations, and reads the best hour to post (screenshots of each)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboard.performance.world import performance_world

pytestmark = pytest.mark.browser


def test_a_marketer_finds_what_works(signed_in_page, page, live_server, screenshots):
    performance_world()
    signed_in_page("marketer@example.com", "Marketer")
    page.goto(f"{live_server.url}/locations/loc-acme/tags/")
    page.get_by_role("link", name="Tag performance").first.click()
    expect(page.get_by_role("heading", name="Tag performance")).to_be_visible()
    expect(page.get_by_label("Date range")).to_have_value("90d")
    best = page.get_by_test_id("best-tags")
    expect(best).to_contain_text("Summer Sale")
    expect(page.get_by_test_id("worst-tags")).to_be_visible()
    page.get_by_role("link", name="Lift").click()  # sort by lift, best first
    expect(page.locator("table[data-testid=scorecard] th[aria-sort=descending]")).to_contain_text("Lift")
    screenshots(page, "performance-scorecard")

    page.get_by_test_id("best-tags").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Best posts")).to_be_visible()
    page.wait_for_function("() => document.querySelector('#chart-growth') && "
                           "document.querySelector('#chart-growth').getAttribute('width')")
    screenshots(page, "performance-tag-page")

    page.get_by_role("link", name="This campaign across locations").click()
    ranking = page.get_by_test_id("campaign-locations")
    expect(ranking.locator("tbody tr")).to_have_count(3)
    expect(ranking).to_contain_text("Bistro Central")
    screenshots(page, "performance-campaign")
    page.get_by_role("link", name="Campaigns").first.click()
    expect(page.get_by_test_id("campaigns")).to_contain_text("3")
    screenshots(page, "performance-campaigns")

    page.goto(f"{live_server.url}/locations/loc-acme/best-time/")
    expect(page.get_by_test_id("best-slots")).to_contain_text(":00")
    expect(page.locator("table[data-testid=heatmap] td.low").first).to_be_visible()
    screenshots(page, "performance-best-time")
