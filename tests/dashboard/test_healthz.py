from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import WorkerHeartbeat
from integrations.tasks import heartbeat

HEALTH_TOKEN = "h" * 40


@pytest.fixture(autouse=True)
def _schedules_kept_current(db):
    """The schedules were made when the suite's database was migrated, possibly more than
    SCHEDULE_OVERDUE_AFTER ago in a long run; a running qcluster keeps their next runs current."""
    from django_q.models import Schedule

    Schedule.objects.update(next_run=timezone.now() + timedelta(minutes=1))


@pytest.fixture
def detail(client, settings):
    """GET /healthz with the health token, which shows the detail."""
    settings.HEALTHZ_TOKEN = HEALTH_TOKEN
    return lambda: client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {HEALTH_TOKEN}")


@pytest.mark.django_db
def test_it_is_unhealthy_until_a_worker_reports(detail):
    response = detail()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is False
    assert "qcluster" in body["checks"]["worker"]["message"]


@pytest.mark.django_db
def test_it_is_healthy_after_a_heartbeat(detail):
    heartbeat()
    response = detail()
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"]["age_seconds"] <= 1
    assert set(body["checks"]) == {"database", "broker", "cache", "worker", "schedules"}


@pytest.mark.django_db
def test_a_worker_reports_as_it_spawns(detail):
    # `make run` starts the cluster; the heartbeat schedule's first run is up to a minute later, and until then
    # the Operations page said "no worker has reported yet".
    from django_q.signals import post_spawn

    assert detail().json()["checks"]["worker"]["ok"] is False
    post_spawn.send(sender="django_q", proc_name="Process-1:1")
    assert detail().json()["checks"]["worker"]["ok"] is True


@pytest.mark.django_db
def test_a_worker_whose_report_at_spawn_fails_lives_on(monkeypatch, caplog):
    from django.db import OperationalError
    from django_q.signals import post_spawn

    def locked() -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr("integrations.tasks.worker_beat", locked)
    post_spawn.send(sender="django_q", proc_name="Process-1:1")
    assert "heartbeat at spawn failed" in caplog.text
    assert not WorkerHeartbeat.objects.exists()


@pytest.mark.django_db
def test_a_stale_heartbeat_makes_it_unhealthy(client):
    WorkerHeartbeat.objects.create(name="old", beat_at=timezone.now() - timedelta(minutes=10))
    assert client.get("/healthz").status_code == 503


@pytest.mark.django_db
def test_the_heartbeat_schedule_exists_once_after_migrate():
    from django_q.models import Schedule

    from integrations.schedules import HEARTBEAT, ensure_schedules

    ensure_schedules()
    ensure_schedules()
    assert Schedule.objects.filter(name=HEARTBEAT).count() == 1
    assert Schedule.objects.get(name=HEARTBEAT).func == "integrations.tasks.heartbeat"


@pytest.mark.django_db
def test_healthcheck_command_fails_when_unhealthy_and_passes_when_healthy():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("healthcheck")
    heartbeat()
    call_command("healthcheck")


@pytest.mark.django_db
def test_anonymous_callers_get_only_ok_or_unhealthy_per_check(client, settings):
    from integrations.models import Alert

    settings.HEALTHZ_TOKEN = HEALTH_TOKEN
    Alert.objects.create(kind="x", dedupe_key="x", title="Something", severity=Alert.Severity.CRITICAL,
                         first_seen_at=timezone.now(), last_seen_at=timezone.now())
    heartbeat()
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong-token"}, {"HTTP_AUTHORIZATION": "Bearer "}):
        response = client.get("/healthz", **headers)
        body = response.json()
        assert body == {"status": "ok", "checks": {name: {"ok": True} for name in
                                                   ("database", "broker", "cache", "worker", "schedules")}}
        assert b"sqlite" not in response.content and b"alerts" not in response.content


@pytest.mark.django_db
def test_without_a_health_token_setting_no_bearer_value_shows_the_detail(client, settings):
    settings.HEALTHZ_TOKEN = ""
    assert "ms" not in client.get("/healthz", HTTP_AUTHORIZATION="Bearer ").json()["checks"]["database"]


@pytest.mark.django_db
def test_an_admin_or_the_health_token_gets_the_detail(admin_user, marketer_user, detail):
    from django.test import Client

    heartbeat()
    assert "alerts" in detail().json() and detail().json()["checks"]["database"]["engine"]
    admin = Client()
    admin.force_login(admin_user)
    body = admin.get("/healthz").json()
    assert body["checks"]["database"]["engine"] and "alerts" in body and "ms" in body["checks"]["cache"]
    marketer = Client()
    marketer.force_login(marketer_user)
    assert "alerts" not in marketer.get("/healthz").json()
