"""A first browser flow: a new admin signs in and sees the empty Locations page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_an_admin_signs_in_and_sees_the_empty_locations_page(page, live_server, signed_in_page, screenshots):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    screenshots(page, "foundation-01-sign-in")
    signed_in_page("admin@example.com", "Admin")
    assert page.url.rstrip("/") == live_server.url
    expect(page.get_by_role("heading", name="Locations")).to_be_visible()
    expect(page.get_by_text("No HighLevel location yet")).to_be_visible()
    screenshots(page, "foundation-02-empty-locations")


def test_a_marketer_is_told_to_ask_an_admin_on_a_phone(page, live_server, signed_in_page, screenshots):
    page.set_viewport_size({"width": 390, "height": 844})
    signed_in_page("marketer@example.com", "Marketer")
    expect(page.get_by_text("Ask an administrator")).to_be_visible()
    screenshots(page, "foundation-03-marketer-phone")
