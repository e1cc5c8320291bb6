"""An admin connects a sandbox agency and a location in Chromium, then tests, rotates and disconnects."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from integrations.models import Connection

pytestmark = pytest.mark.browser


def test_an_admin_connects_an_agency_and_manages_it(page, live_server, signed_in_page, screenshots, hl):
    signed_in_page("admin@example.com", "Admin")
    page.get_by_role("link", name="Connections").click()
    expect(page.get_by_text("No connection yet")).to_be_visible()
    screenshots(page, "connections-01-empty")

    page.get_by_role("link", name="Connect an agency").click()
    assert page.url.startswith(hl.url)  # the sandbox's consent page
    screenshots(page, "connections-02-consent-page")
    agency = hl.state()["agencies"][0]
    page.locator(f'button[value="company:{agency["id"]}"]').click()

    page.wait_for_url(f"{live_server.url}/connections/*/")
    expect(page.get_by_text("Connected").first).to_be_visible()
    expected = [loc["name"] for loc in hl.state()["locations"] if loc["companyId"] == agency["id"]]
    for name in expected:
        expect(page.get_by_role("cell", name=name)).to_be_visible()
    screenshots(page, "connections-03-agency-connected")

    page.get_by_role("button", name="Test").click()
    expect(page.locator(".message.success", has_text="the agency token works")).to_be_visible()
    page.get_by_role("link", name="Rotate").click()
    page.get_by_role("button", name="Rotate now").click()
    expect(page.get_by_text("token replaced")).to_be_visible()
    screenshots(page, "connections-04-tested-and-rotated")

    page.get_by_role("link", name="Disconnect").click()
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("is disconnected")).to_be_visible()
    screenshots(page, "connections-05-disconnected")
    connection = Connection.objects.get()
    assert connection.status == Connection.Status.DISCONNECTED
    assert connection.locations.count() == len(expected)


def test_an_admin_connects_a_single_location_on_a_phone(page, live_server, signed_in_page, screenshots, hl):
    page.set_viewport_size({"width": 390, "height": 844})
    signed_in_page("admin@example.com", "Admin")
    page.goto(f"{live_server.url}/connections/")
    page.get_by_role("link", name="Connect one location").click()
    location = hl.state()["locations"][0]
    page.locator(f'button[value="location:{location["id"]}"]').click()
    page.wait_for_url(f"{live_server.url}/connections/*/")
    expect(page.get_by_role("cell", name=location["id"], exact=True)).to_be_visible()
    screenshots(page, "connections-06-location-phone")
