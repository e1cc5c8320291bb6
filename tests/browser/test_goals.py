"""In Chromium: an admin sets a posting goal in the goal editor and mutes a metric; the overview shows the
goal's pacing in its Goals column and a location's open item as a "needs attention" badge, first in the list."""

from __future__ import annotations

import pytest
from django.utils import timezone

from integrations.models import Alert, AnomalyMute, Goal
from tests.dashboard.browsing_factories import location_make

pytestmark = pytest.mark.browser


def test_an_admin_sets_a_goal_and_the_overview_shows_pacing_and_attention(page, live_server, signed_in_page,
                                                                          screenshots):
    location_make("loc-acme", "Acme Bakery")
    bistro = location_make("loc-bistro", "Bistro Central")
    now = timezone.now()
    Alert.objects.create(kind="post.failed", dedupe_key="post.failed:loc-bistro:p1", context={
        "reason": "post failed on Instagram"}, title="Bistro Central: post failed on Instagram", location=bistro,
        first_seen_at=now, last_seen_at=now)
    signed_in_page("admin@example.com", "Admin")

    page.goto(f"{live_server.url}/locations/loc-acme/goals/")
    page.get_by_label("Goal:").select_option("posts_per_week")
    page.get_by_label("Target:").fill("5")
    page.get_by_role("button", name="Save goal").click()
    assert page.get_by_text("Goal saved: Posts per week 5.").is_visible()
    assert page.get_by_test_id("pacing").get_by_text("Off track").is_visible()
    page.get_by_label("Reach").check()
    page.get_by_role("button", name="Save anomaly settings").click()
    assert page.get_by_text("Anomaly settings saved").is_visible()
    assert Goal.objects.get().target == 5 and AnomalyMute.objects.get().metric == "reach"
    screenshots(page, "goals-01-editor")

    page.goto(f"{live_server.url}/")
    rows = page.locator("table[data-testid=locations] tbody tr")
    assert rows.first.get_attribute("data-location") == "loc-bistro"
    assert rows.first.get_by_test_id("attention").get_by_text("Post failed", exact=True).is_visible()
    assert rows.nth(1).get_by_test_id("goals").get_by_text("Off track", exact=True).is_visible()
    screenshots(page, "goals-02-overview")
