"""Done when: breaking the live sandbox shows on /operations/ and as one mail per condition, and clearing
it resolves the alert. Runs come back from their waits by travelling to their next attempt (no sleeping)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from dashboard.devtools.demo import sandbox_agency_connect
from integrations.alerts.engine import alerts_evaluate
from integrations.highlevel.retry import UP, Backoff
from integrations.models import Alert, Connection, Location, SyncRun
from integrations.sync.services import refresh_location_enqueue, sync_unit_execute
from integrations.tasks import heartbeat

REDIRECT = "http://testserver/connections/oauth/callback/"


@pytest.fixture
def agency(hl, db, settings, monkeypatch, admin_user):
    settings.HIGHLEVEL_MAX_RETRIES = 0
    settings.HIGHLEVEL_RATE_LIMIT_MAX_WAIT_SECONDS = 0
    settings.ALERT_CONSECUTIVE_FAILURES = 3
    # Two tries per run keep the test short.
    monkeypatch.setattr("integrations.sync.runs.SCHEDULED_BACKOFF", Backoff(retries=1, base=30, jitter=UP, spread=0.25))
    return sandbox_agency_connect(hl, redirect_uri=REDIRECT)


def _refresh_until_finished(location: Location) -> tuple[SyncRun, int]:
    """One scheduled tags refresh, brought back from each wait as its one-off schedule would.
    (run, times it waited)"""
    run = refresh_location_enqueue(location, kinds=["tags"], trigger="schedule")
    run.refresh_from_db()
    waits = 0
    while run.status == SyncRun.Status.WAITING:
        waits += 1
        with time_machine.travel(run.next_attempt_at + timedelta(seconds=1)):
            sync_unit_execute(run_id=run.pk)
        run.refresh_from_db()
    return run, waits


def _evaluate() -> dict:
    heartbeat()  # the worker is alive (the page and the alerts must only show the broken location)
    return alerts_evaluate(now=timezone.now())


def test_a_location_failing_every_call_alerts_once_and_resolves_when_it_works_again(hl, agency, admin_http):
    location = Location.objects.filter(connection=agency).order_by("location_id").first()
    hl.add_fault(locations=[location.location_id], error_rate=1.0, error_status=503)

    first, waits = _refresh_until_finished(location)
    assert first.status == SyncRun.Status.FAILED and waits == 1  # failed only after its retry
    assert _evaluate()["raised"] == 0  # one failed run is a blip
    for _ in range(2):
        assert _refresh_until_finished(location)[0].status == SyncRun.Status.FAILED
    assert _evaluate()["raised"] == 1
    alert = Alert.objects.get(state="open")
    assert alert.dedupe_key == f"location.failing:{location.location_id}"
    assert len(mail.outbox) == 1 and location.name in mail.outbox[0].subject
    assert "503" in mail.outbox[0].body or "ServerError" in mail.outbox[0].body

    page = admin_http.get("/operations/").content.decode()
    assert alert.title in page and "badge bad\">failed" in page

    for _ in range(3):  # still broken: the same alert, no new mail
        _evaluate()
    assert Alert.objects.count() == 1 and len(mail.outbox) == 1

    hl.clear_faults()
    assert _refresh_until_finished(location)[0].status == SyncRun.Status.SUCCEEDED
    assert _evaluate()["resolved"] == 1
    alert.refresh_from_db()
    assert alert.state == "resolved" and "succeeded again" in alert.resolution_note
    assert len(mail.outbox) == 2 and mail.outbox[1].subject.startswith("[Tagscope] Resolved")
    assert alert.title not in admin_http.get("/operations/").content.decode()


def test_a_revoked_token_alerts_once_and_reconnecting_resolves_it(hl, agency, admin_http):
    location = Location.objects.filter(connection=agency).order_by("location_id").first()
    hl.revoke_tokens(company_id=agency.company_id)
    run, _ = _refresh_until_finished(location)
    assert run.status == SyncRun.Status.FAILED
    agency.refresh_from_db()
    assert agency.status == Connection.Status.NEEDS_RECONNECT
    assert _evaluate()["raised"] == 1
    assert Alert.objects.get(state="open").dedupe_key == f"connection.needs_reconnect:{agency.pk}"
    assert len(mail.outbox) == 1 and "needs to be reconnected" in mail.outbox[0].subject
    assert "Needs reconnect" in admin_http.get("/operations/").content.decode()

    sandbox_agency_connect(hl, redirect_uri=REDIRECT)  # the admin reconnects
    assert _evaluate()["resolved"] == 1
    assert not Alert.objects.filter(state__in=Alert.ACTIVE).exists()
    assert len(mail.outbox) == 2 and "Resolved" in mail.outbox[1].subject
