"""An admin adds a destination pointing at a live receiver, maps two fields with the live preview,
sends a test event and sees it in the delivery log; the receiver checks the signature."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.integrations.delivery import conftest as delivery_fixtures

pytestmark = pytest.mark.browser

# The delivery tests' fixtures: a live receiver on a free port (and a location).
receiver = delivery_fixtures.receiver
receiver_secret = delivery_fixtures.receiver_secret


def test_an_admin_adds_a_destination_maps_fields_and_sends_a_test_event(page, live_server, signed_in_page,
                                                                        screenshots, receiver):
    signed_in_page("admin@example.com", "Admin")
    page.get_by_role("link", name="Destinations").click()
    expect(page.get_by_text("No destination yet")).to_be_visible()
    screenshots(page, "delivery-01-empty")

    page.get_by_role("link", name="Add a destination").first.click()
    page.get_by_label("Name").fill("Demo receiver")
    page.get_by_label("URL").fill(f"{receiver.url}/hooks")
    page.get_by_label("tag.created").check()
    page.get_by_label("tag.removed").check()
    screenshots(page, "delivery-02-add-form")
    page.get_by_role("button", name="Add destination").click()

    secret = page.locator("#signing-secret").inner_text()
    assert secret.startswith("whsec_")
    receiver.receiver.secrets.append(secret)  # the admin pastes it into the receiving app
    screenshots(page, "delivery-03-secret-shown-once")

    page.get_by_role("row", name="tag.created").get_by_role("link", name="Edit mapping").click()
    page.get_by_label("Row 1 Output name").fill("tagName")
    page.get_by_label("Row 1 Source path").fill("payload.name")
    page.get_by_label("Row 1 Transform").select_option("upper")
    page.get_by_label("Row 2 Output name").fill("origin")
    page.get_by_label("Row 2 or constant").fill("tagscope")
    preview = page.locator("#mapping-preview")
    preview.filter(has_text='"origin": "tagscope"').wait_for()  # the live preview, via the JSON endpoint
    assert '"tagName": "VIP CUSTOMER"' in preview.inner_text()
    page.get_by_label("Row 3 Transform").select_option("date")
    page.get_by_label("Row 3 Output name").fill("when")
    page.get_by_label("Row 3 Source path").fill("occurred_at")
    page.get_by_label("Row 3 Format / separator").fill("%Q")
    page.get_by_text("is not a date format").wait_for()
    screenshots(page, "delivery-04-mapping-preview-and-error")
    page.get_by_label("Row 3 Format / separator").fill("%d/%m/%Y")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Mapping for tag.created saved (3 fields)")).to_be_visible()

    page.get_by_label("Event type").select_option("tag.created")
    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("Test tag.created delivered (HTTP 200)")).to_be_visible()
    log = page.locator("table.delivery-log")
    expect(log.get_by_text("Delivered")).to_be_visible()
    expect(log.get_by_text("test")).to_be_visible()
    log.locator("details.attempt summary").first.click()
    screenshots(page, "delivery-05-delivery-log")

    [message] = receiver.receiver.received()
    assert message["valid"] is True and message["test"] is True
    assert message["body"]["data"] == {"tagName": "VIP CUSTOMER", "origin": "tagscope", "when": "16/01/2025"}
    page.goto(receiver.url)
    expect(page.get_by_text("signature valid")).to_be_visible()
    screenshots(page, "delivery-06-receiver")
