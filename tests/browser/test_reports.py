"""A marketer, new to Tagscope, builds a monthly branded report for a client location, reads it, sends it,
shares a link, and the client opens the link in a browser with no account. Screenshots: the report, its
PDF's first page (rendered with pypdfium2) and the share page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.reports.branding import branding_save
from dashboard.reports.models import Report, ReportDelivery, ShareLink
from tests.dashboard.browsing_factories import (
    accounts_make,
    demographics_make,
    location_make,
    post_make,
    statistics_make,
    tag_make,
)
from tests.dashboard.reports.conftest import image_bytes

pytestmark = pytest.mark.browser


def _client_location():
    location = location_make("loc-acme", "Acme Bakery", tz="Europe/London")
    today = timezone.now().astimezone(UTC).date()
    month_end = today.replace(day=1) - timedelta(days=1)
    statistics_make(location, end=today, days=75, accounts=accounts_make(location, platforms=("facebook",
                                                                                              "instagram")))
    demographics_make(location, end=month_end)
    tags = [tag_make(location, name, tag_id=f"t-{n}") for n, name in enumerate(("Spring Sale", "Recipes", "Team"))]
    for n in range(15):
        when = datetime.combine(month_end.replace(day=1 + n), datetime.min.time(), tzinfo=UTC) + timedelta(hours=14)
        post_make(location, f"p{n}", tag_ids=[tags[n % 3].tag_id], when=when, platform=("facebook", "instagram")[n % 2],
                  summary=f"{('Fresh sourdough', 'Spring sale: 20% off', 'Meet the bakers')[n % 3]} #{n}",
                  likes=5 + 7 * n, comments=n % 4, shares=n % 3)
    return location


def _pdf_first_page_png(data: bytes, path) -> None:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    document[0].render(scale=1.4).to_pil().save(path)
    document.close()


def test_a_marketer_builds_sends_and_shares_a_branded_report(page, browser, live_server, signed_in_page,
                                                             screenshots, admin_user):
    _client_location()
    branding_save(agency_name="Northwind Social", accent="#0f766e",
                  footer="Northwind Social · hello@northwind.example",
                  logo=image_bytes("PNG", size=(360, 90), colour=(15, 118, 110)), remove_logo=False, user=admin_user)
    signed_in_page("marketer@example.com", "Marketer")

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_text("No report yet")).to_be_visible()
    page.get_by_role("link", name="Build your first report").click()
    page.locator("#id_name").fill("Acme Bakery: monthly social report")
    page.locator("#id_location").select_option(label="Acme Bakery")
    page.locator("#id_period").select_option(label="Last month")
    note = page.get_by_role("textbox", name="Note for your client")
    note.fill("Spring Sale posts drove most of the engagement this month.")
    page.locator("#id_cadence").select_option(label="Monthly")
    page.get_by_role("textbox", name="Recipients").fill("owner@acme.example")
    page.get_by_role("button", name="Create report").click()

    expect(page.get_by_text("Report saved. It will be mailed on schedule.")).to_be_visible()
    expect(page.get_by_role("heading", name="Key figures")).to_be_visible()
    expect(page.get_by_role("heading", name="Tag scorecard")).to_be_visible()
    report = Report.objects.get()
    assert report.cadence == "monthly" and report.next_send_at > timezone.now()
    screenshots(page, "reports-01-report")

    pdf = page.request.get(f"{live_server.url}/reports/{report.pk}/pdf/")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    _pdf_first_page_png(pdf.body(), _results("reports-02-pdf-page1.png"))

    page.get_by_role("textbox", name="Recipients").fill("owner@acme.example")
    page.get_by_role("button", name="Send", exact=True).click()
    # Queued by the page; the worker (django-q2 in sync mode under the test settings) sent it once committed.
    expect(page.get_by_text("Queued for owner@acme.example")).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("Sent")
    assert ReportDelivery.objects.get().status == "sent" and mail.outbox[-1].to == ["owner@acme.example"]
    page.goto(f"{live_server.url}/reports/{report.pk}/")

    page.get_by_label("Link works for (days)").fill("30")
    page.get_by_role("button", name="Create link").click()
    url = page.get_by_label("Share link").input_value()
    assert "/share/" in url and ShareLink.objects.get().views == 0
    screenshots(page, "reports-03-links")

    stranger = browser.new_context()  # the client: no cookies, no account
    client_page = stranger.new_page()
    response = client_page.goto(url.replace("http://localhost:8000", live_server.url))
    assert response.status == 200 and response.headers["x-robots-tag"].startswith("noindex")
    expect(client_page.get_by_role("heading", name="Acme Bakery: monthly social report")).to_be_visible()
    expect(client_page.get_by_text("A read-only report shared with you by Northwind Social")).to_be_visible()
    assert client_page.get_by_role("link", name="Reports").count() == 0  # none of the app
    screenshots(client_page, "reports-04-share-page")
    stranger.close()
    assert ShareLink.objects.get().views == 1


def _results(name: str):
    from tests.conftest import RESULTS_DIR

    RESULTS_DIR.mkdir(exist_ok=True)
    return RESULTS_DIR / name
