"""An admin opens /operations/ while all is well, then after a location starts failing: the alert, the
failing row and the charts show; screenshots of both states."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _a_week_of_history():
    from integrations.models import ApiCall, Connection, Location, RateLimitDay, SyncRun, WorkerHeartbeat
    from integrations.schedules import ensure_schedules

    now = timezone.now()
    agency = Connection.objects.create(name="Acme Marketing (agency)", kind=Connection.Kind.OAUTH_AGENCY,
                                       company_id="C1", token_expires_at=now + timedelta(hours=20))
    names = ["Downtown Bakery", "Harbor Dental", "Northside Fitness"]
    locations = [Location.objects.create(location_id=f"LOC{n}abcdef", connection=agency, name=name)
                 for n, name in enumerate(names)]
    runs, calls = [], []
    for hour in range(7 * 24, 0, -1):
        at = now - timedelta(hours=hour) + timedelta(minutes=5)
        for n, location in enumerate(locations):
            runs.append(SyncRun(kind="tags", status="failed" if (hour + n) % 53 == 0 else "succeeded",
                                location=location, connection=agency, trigger="schedule", started_at=at,
                                finished_at=at + timedelta(seconds=4)))
            for k in range(6):
                calls.append(ApiCall(at=at, method="GET", endpoint="/social-media-posting/{locationId}/tags",
                                     resource_id=location.location_id, connection_id=agency.pk,
                                     status=429 if (hour * 7 + k) % 61 == 0 else 200,
                                     latency_ms=120 + (hour * 37 + k * 91 + n * 13) % 400 + (hour % 24) * 5,
                                     attempt=2 if k == 5 and hour % 9 == 0 else 1))
    SyncRun.objects.bulk_create(runs)
    ApiCall.objects.bulk_create(calls)
    for location in locations:
        for days_ago in range(7):
            RateLimitDay.objects.create(key=f"app:{location.location_id}", day=(now - timedelta(days=days_ago)).date(),
                                        count=1000, reported_limit=200_000,
                                        reported_remaining=200_000 - 9000 * (7 - days_ago))
    for location in locations:
        for kind in ("accounts", "statistics"):
            SyncRun.objects.create(kind=kind, status="succeeded", location=location, connection=agency,
                                   started_at=now - timedelta(minutes=20), finished_at=now - timedelta(minutes=19))
        SyncRun.objects.create(kind="tags", status="succeeded", location=location, connection=agency,
                               started_at=now - timedelta(minutes=3), finished_at=now - timedelta(minutes=2))
    Location.objects.update(last_synced_at=now - timedelta(minutes=2), last_sync_status="succeeded")
    WorkerHeartbeat.objects.create(name="tagscope", beat_at=now)
    ensure_schedules()
    return locations


def _break(location):
    from integrations.alerts.engine import alerts_evaluate
    from integrations.models import Location, SyncRun
    from integrations.tasks import heartbeat

    now = timezone.now()
    for n in range(3):
        SyncRun.objects.create(kind="tags", status="failed", location=location, connection=location.connection,
                               trigger="schedule", attempts=5, started_at=now - timedelta(minutes=3 - n),
                               finished_at=now - timedelta(minutes=3 - n, seconds=-2), trace_ids=["7f3e2a19-c0de"],
                               error="ServerError: HighLevel answered 503 Service Unavailable")
    Location.objects.filter(pk=location.pk).update(
        last_sync_status="failed", last_sync_error="ServerError: HighLevel answered 503 Service Unavailable")
    heartbeat()
    return alerts_evaluate()


def test_operations_healthy_then_failing(page, live_server, signed_in_page, screenshots):
    from django.core import mail

    locations = _a_week_of_history()
    signed_in_page("admin@example.com", "Admin")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Operations").click()
    page.wait_for_function("() => document.querySelectorAll('canvas').length === 4 && !!window.Chart")
    expect(page.get_by_test_id("health").get_by_text("Healthy")).to_be_visible()
    assert page.get_by_text("All quiet").count() == 0 and page.get_by_test_id("open-alerts").count() == 0
    expect(page.get_by_test_id("locations").get_by_text("Downtown Bakery")).to_be_visible()
    screenshots(page, "operations-01-healthy")

    outcome = _break(locations[0])
    assert outcome["raised"] == 1 and len(mail.outbox) == 1
    page.reload()
    page.wait_for_function("() => !!window.Chart")
    alerts = page.get_by_test_id("open-alerts")
    expect(alerts.get_by_text("Downtown Bakery: tags refresh failed 3 times in a row")).to_be_visible()
    expect(page.get_by_test_id("locations").get_by_text("HighLevel answered 503")).to_be_visible()
    screenshots(page, "operations-02-failing")

    page.get_by_role("link", name="Alerts", exact=True).click()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("no more reminders")).to_be_visible()  # after the form's redirect, not before
    page.get_by_role("link", name="Run history").click()
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.get_by_role("button", name="Retry all failed in this filter")).to_be_visible()
    screenshots(page, "operations-03-runs-failed")

    page.get_by_role("link", name="Digest preview").click()
    frame = page.frame_locator("iframe[data-testid=digest-html]")
    expect(frame.get_by_text("Your week in statistics")).to_be_visible()  # framed on our origin, styles inline
    expect(frame.get_by_role("link", name="See the charts of Downtown Bakery")).to_be_visible()
    screenshots(page, "operations-04-digest-preview")
