"""The whole path of a new user in Chromium, against the sandbox over real HTTP and a real django-q2 worker
process: sign in, connect the sandbox's agency through its consent page, watch the first refresh's progress,
search tags, open one, read a 90-day chart against the previous 90 days, export the tags as CSV, add a
destination and see a delivery arrive. One screenshot per step: test-results/e2e-NN-*.png.

The worker's scheduler is off so that the test decides what runs when: the steps a schedule would take
(the deliveries sweep) are called at the point where the schedule would fire."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from integrations.delivery.sending import deliveries_sweep
from integrations.models import Location, Tag
from tests.conftest import PASSWORD
from tests.integrations.delivery import conftest as delivery_fixtures
from tests.scale.workers import own_cluster, worker_processes

pytestmark = pytest.mark.browser

receiver = delivery_fixtures.receiver
receiver_secret = delivery_fixtures.receiver_secret
WAIT_MS = 30_000  # a real worker picks the work up; generous for a loaded CI machine


def _until_visible(page, locator, *, timeout_ms: int = WAIT_MS) -> None:
    """Reload until a worker's result shows: these pages do not poll by themselves."""
    deadline = page.evaluate("Date.now()") + timeout_ms
    while not locator.is_visible():
        assert page.evaluate("Date.now()") < deadline, f"never appeared: {locator}"
        page.wait_for_timeout(300)  # between reloads; the worker, not the clock, makes the change
        page.reload()


def test_a_new_user_goes_from_sign_in_to_a_delivered_webhook(page, live_server, make_user, screenshots, hl,
                                                              receiver):
    hl.reset(days=200)  # half a year of history: a 90-day range and the 90 days before it
    hl.add_fault(latency_ms=60)  # HighLevel is not instant: the first refresh's progress can be watched
    agency = hl.state()["agencies"][0]
    locations = [loc for loc in hl.state()["locations"] if loc["companyId"] == agency["id"]]
    worker = {"TAGSCOPE_TEST_SCHEDULER": "false", "TAGSCOPE_TEST_STATISTICS_DAYS": "181",
              "DESTINATION_ALLOWED_HOSTS": "127.0.0.1"}
    with own_cluster(workers=2, **worker) as env, worker_processes(1, env):
        # 1. Sign in through the real form.
        make_user("new.admin@example.com", "Admin")
        page.goto(f"{live_server.url}/")
        page.get_by_label("Email").fill("new.admin@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        screenshots(page, "e2e-01-sign-in")
        page.get_by_role("button", name="Sign In").click()
        expect(page.get_by_role("heading", name="Locations")).to_be_visible()

        # 2. Connect the sandbox agency through its consent page.
        page.get_by_role("link", name="Connections").click()
        page.get_by_role("link", name="Connect an agency").click()
        assert page.url.startswith(hl.url)
        screenshots(page, "e2e-02-consent-page")
        page.locator(f'button[value="company:{agency["id"]}"]').click()
        page.wait_for_url(f"{live_server.url}/connections/*/")
        _until_visible(page, page.get_by_role("cell", name=locations[0]["name"]))  # the worker listed them
        screenshots(page, "e2e-03-agency-connected")

        # 3. The first refresh of a location, its progress followed live.
        first = Location.objects.get(location_id=locations[0]["id"])
        page.get_by_role("link", name="Locations").click()
        page.get_by_role("link", name=first.name).click()
        expect(page.get_by_text("No tags mirrored yet for this location.")).to_be_visible()
        # HighLevel's own pace (a few hundred ms an answer), so the refresh's parts finish one by one while
        # the page follows them: the sandbox alone answers this small location in about a second.
        hl.add_fault(locations=[first.location_id], latency_ms=400)
        page.get_by_role("button", name="Refresh now").click()
        progress = page.locator("#refresh-text")
        expect(progress).to_have_text(re.compile(r"Refreshing · [1-9]\d* of [1-9]"), timeout=WAIT_MS)
        screenshots(page, "e2e-04-first-refresh-progress")
        expect(page.get_by_test_id("tag-count")).to_contain_text(  # reloaded
            re.compile(r"Showing \d+ of [\d,]+ tags"), timeout=WAIT_MS)
        hl.clear_faults()
        screenshots(page, "e2e-05-tags")
        assert Tag.objects.filter(location=first).count() == len(hl.tags(first.location_id))

        # 4. Search as you type: the list narrows to matching tags.
        name = Tag.objects.filter(location=first, removed_at__isnull=True).order_by("sort_name").first().name
        needle = name[:4].casefold()
        page.get_by_label("Search tags").press_sequentially(needle, delay=40)
        page.wait_for_url(f"**/tags/?q={needle}")
        page.wait_for_function("() => document.querySelector('#tag-results').getAttribute('aria-busy') === 'false'")
        shown = page.locator("table[data-testid=tags] tbody th a").all_inner_texts()
        assert shown and all(needle in n.casefold() for n in shown)
        assert len(shown) < Tag.objects.filter(location=first, removed_at__isnull=True).count()
        screenshots(page, "e2e-06-search")

        # 5. Export what is shown as CSV and read it back.
        with page.expect_download() as download:
            page.get_by_test_id("export-tags").click()
        rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        assert rows[0][:2] == ["id", "name"] and len(rows) - 1 == len(shown)
        assert all(needle in row[1].casefold() for row in rows[1:])

        # 6. Open a tag.
        page.get_by_role("link", name=shown[0], exact=True).click()
        expect(page.get_by_role("heading", name=shown[0])).to_be_visible()
        expect(page.get_by_text("First seen", exact=True)).to_be_visible()
        screenshots(page, "e2e-07-tag-detail")

        # 7. 90 days of statistics against the 90 days before.
        page.goto(f"{live_server.url}/locations/{first.location_id}/statistics/")
        page.get_by_label("Date range").select_option("90d")
        page.wait_for_function("() => document.getElementById('stats-root').dataset.state === 'ready' && "
                               "location.search.includes('range=90d')")
        page.get_by_label("Compare with").select_option("previous")
        page.wait_for_function("() => document.getElementById('stats-root').dataset.state === 'ready' && "
                               "location.search.includes('compare=previous')")
        expect(page.locator("#stats-range-text")).to_contain_text("compared with")
        chart = page.evaluate("""() => { const c = Chart.getChart('chart-impressions').data;
            const prev = c.datasets.find(d => d.label.startsWith('Previous period'));
            return {days: c.labels.length, previous: prev ? prev.data.filter(v => v !== null).length : 0}; }""")
        assert chart == {"days": 90, "previous": 90}  # the bars, and the previous 90 days drawn over them
        card = page.locator('#stat-cards [data-metric="impressions"]')
        assert float(card.get_attribute("data-total")) > 0
        expect(card).to_contain_text("vs previous")
        screenshots(page, "e2e-08-statistics-90-days")

        # 8. A destination for tag changes; a rename in HighLevel arrives there, signed.
        page.get_by_role("link", name="Destinations").click()
        page.get_by_role("link", name="Add a destination").first.click()
        page.get_by_label("Name").fill("Our CRM")
        page.get_by_label("URL").fill(f"{receiver.url}/hooks")
        page.get_by_label("tag.updated").check()
        page.get_by_role("button", name="Add destination").click()
        receiver.receiver.secrets.append(page.locator("#signing-secret").inner_text())
        destination_url = page.url
        tag = Tag.objects.filter(location=first, removed_at__isnull=True).order_by("name").first()
        hl.rename_tag(first.location_id, tag.tag_id, "Renamed in HighLevel")
        page.goto(f"{live_server.url}/locations/{first.location_id}/tags/?q=renamed")
        with page.expect_navigation(timeout=WAIT_MS):  # the list reloads when the refresh is done
            page.get_by_role("button", name="Refresh now").click()
        expect(page.get_by_role("link", name="Renamed in HighLevel")).to_be_visible()
        deliveries_sweep()  # what the tagscope.deliveries-sweep schedule does every minute
        page.goto(destination_url)
        _until_visible(page, page.locator("table.delivery-log").get_by_text("Delivered"))
        screenshots(page, "e2e-09-delivery")
        [message] = [m for m in receiver.receiver.received() if not m["test"]]
        assert message["valid"] is True
        assert message["body"]["type"] == "tag.updated"
