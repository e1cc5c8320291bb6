"""Alerts list and acknowledge, the rules editor, the digest preview, the digest opt-in, run ids in logs."""

from __future__ import annotations

import json
import logging

import pytest
from django.utils import timezone

from dashboard.logging import ContextFilter, JsonFormatter, RedactSecretsFilter
from integrations.models import Alert, AlertRule, Location, NotificationPreference

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(db):
    now = timezone.now()
    return Alert.objects.create(kind="worker.missing", dedupe_key="worker.missing", severity="critical",
                                title="No worker has reported since 09:00", detail="Is qcluster running?",
                                first_seen_at=now, last_seen_at=now, notified_at=now, notify_count=1)


def test_the_alert_list_shows_open_alerts_and_admins_acknowledge(admin_http, alert):
    html = admin_http.get("/operations/alerts/").content.decode()
    assert "No worker has reported since 09:00" in html and "worker.missing" in html and "Acknowledge" in html
    response = admin_http.post(f"/operations/alerts/{alert.pk}/acknowledge/", follow=True)
    alert.refresh_from_db()
    assert alert.state == "acknowledged" and alert.acknowledged_by.email == "admin@example.com"
    assert "no more reminders" in response.content.decode()
    assert "No worker" not in admin_http.get("/operations/alerts/?show=resolved").content.decode()


def test_marketers_cannot_read_or_acknowledge(marketer_http, alert):
    assert marketer_http.get("/operations/alerts/").status_code == 403
    assert marketer_http.post(f"/operations/alerts/{alert.pk}/acknowledge/").status_code == 403
    alert.refresh_from_db()
    assert alert.state == "open"


def test_admins_add_edit_and_delete_rules(admin_http, db):
    location = Location.objects.create(location_id="LOCx", name="Bakery")
    response = admin_http.post("/operations/alerts/rules/", {
        "name": "Impressions fall over 30%", "metric": "impressions", "platform": "", "comparison": "drops_by",
        "threshold": "30", "location": "", "is_active": "on"})
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.metric, rule.threshold, rule.location, rule.created_by.email) == (
        "impressions", 30, None, "admin@example.com")
    assert "Impressions fall over 30%" in admin_http.get("/operations/alerts/rules/").content.decode()
    admin_http.post(f"/operations/alerts/rules/{rule.pk}/", {
        "name": "Bakery impressions", "metric": "impressions", "platform": "", "comparison": "below",
        "threshold": "500", "location": location.pk})
    rule.refresh_from_db()
    assert (rule.comparison, rule.location, rule.is_active) == ("below", location, False)
    bad = admin_http.post("/operations/alerts/rules/", {"name": "x", "metric": "impressions", "comparison": "drops_by",
                                                        "threshold": "-5"})
    assert "Give a percentage above 0." in bad.content.decode()
    admin_http.post(f"/operations/alerts/rules/{rule.pk}/delete/")
    assert not AlertRule.objects.exists()


def test_marketers_cannot_edit_rules(marketer_http, db):
    assert marketer_http.get("/operations/alerts/rules/").status_code == 403
    assert marketer_http.post("/operations/alerts/rules/", {"name": "x"}).status_code == 403


def test_the_digest_preview_shows_both_parts(admin_http, db):
    Location.objects.create(location_id="LOCx", name="Corner Bakery")
    page = admin_http.get("/operations/digest/")
    html = page.content.decode()
    assert "Corner Bakery" in html and "Your week in statistics" in html and 'src="/operations/digest/html/"' in html
    framed = admin_http.get("/operations/digest/html/")
    assert "Corner Bakery" in framed.content.decode()
    assert framed["X-Frame-Options"] == "SAMEORIGIN" and "script-src" not in framed["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in framed["Content-Security-Policy"]


def test_the_digest_preview_prints_names_from_highlevel_escaped(admin_http, db):
    """The plain-text part is rendered with autoescape off; on the preview page it must be escaped again."""
    meta = '<meta http-equiv="refresh" content="0;url=https://evil.example">'
    Location.objects.create(location_id="LOCx", name=f"{meta}<img src=x onerror=alert(1)>")
    html = admin_http.get("/operations/digest/").content.decode()
    assert meta not in html and "<img src=x" not in html
    assert "&lt;meta http-equiv=&quot;refresh&quot;" in html
    framed = admin_http.get("/operations/digest/html/").content.decode()
    assert meta not in framed and "&lt;img src=x onerror=alert(1)&gt;" in framed


def test_anyone_signed_in_opts_in_and_out_of_the_digest(marketer_http, marketer_user):
    assert 'name="weekly_digest"' in marketer_http.get("/profile/").content.decode()
    marketer_http.post("/profile/digest/", {"weekly_digest": "on"})
    assert NotificationPreference.objects.get(user=marketer_user).weekly_digest is True
    assert "checked" in marketer_http.get("/profile/").content.decode().split('name="weekly_digest"')[1][:40]
    marketer_http.post("/profile/digest/", {})
    assert NotificationPreference.objects.get(user=marketer_user).weekly_digest is False


def test_a_sync_task_logs_with_its_run_id_and_no_secret(monkeypatch):
    """Running a unit binds its run id; every line inside it carries it, tokens redacted."""
    import integrations.sync.services as services
    from integrations.tasks import sync_unit

    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("integrations.sync.services")
    log.addHandler(handler)

    def fake_execute(*, run_id, client=None):
        log.warning("refreshing with Authorization: Bearer sbxat_Zk3v9QwPqLr8TnB2 for run %s", run_id)
        return "succeeded"

    monkeypatch.setattr(services, "_unit_execute", fake_execute)
    try:
        assert sync_unit(4242) == "succeeded"
    finally:
        log.removeHandler(handler)
    payload = json.loads(lines[0])
    assert payload["run_id"] == "4242" and "sbxat_Zk3v9QwPqLr8TnB2" not in lines[0]
    assert "[redacted]" in payload["message"]


def test_healthz_counts_open_alerts_without_failing_on_them(admin_http, alert):
    from django.utils import timezone
    from django_q.models import Schedule

    from integrations.tasks import heartbeat

    heartbeat()
    # The schedules migrate made are due from when the test database was created: a suite running long on a
    # loaded machine (over 5 minutes before this test) would see them overdue and answer 503 for that reason.
    Schedule.objects.update(next_run=timezone.now())
    response = admin_http.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["alerts"] == {"open": 1, "critical": 1}
    assert body["checks"]["broker"]["queued"] == 0


def test_long_alert_lists_are_paged_keeping_the_view(admin_http, db):
    now = timezone.now()
    Alert.objects.bulk_create([Alert(kind="quota.high", dedupe_key=f"quota.high:L{n}", title=f"Quota {n}",
                                     first_seen_at=now, last_seen_at=now) for n in range(60)])
    html = admin_http.get("/operations/alerts/?show=active").content.decode()
    assert "Page 1 of 2" in html and 'href="?show=active&amp;page=2"' in html
    assert "Page 2 of 2" in admin_http.get("/operations/alerts/?show=active&page=2").content.decode()
