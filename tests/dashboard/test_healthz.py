from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import WorkerHeartbeat
from integrations.tasks import heartbeat


@pytest.mark.django_db
def test_it_is_unhealthy_until_a_worker_reports(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is False
    assert "qcluster" in body["checks"]["worker"]["message"]


@pytest.mark.django_db
def test_it_is_healthy_after_a_heartbeat(client):
    heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"]["age_seconds"] <= 1
    assert set(body["checks"]) == {"database", "broker", "cache", "worker", "schedules"}


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
