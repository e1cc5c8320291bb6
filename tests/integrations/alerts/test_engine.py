"""Raising, deduplicating, throttling and resolving, with the clock injected (no sleeping)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from integrations.alerts.conditions import Condition
from integrations.alerts.engine import alert_acknowledge, alerts_evaluate
from integrations.models import Alert, Event

pytestmark = pytest.mark.django_db


class Switch:
    """A check whose condition holds while `on` is true."""

    def __init__(self, key: str = "location.failing:LOC1", on: bool = True):
        self.key, self.on = key, on

    def __call__(self, now):
        if not self.on:
            return []
        return [Condition(kind="location.failing", key=self.key, title="Bakery: tags refresh failed 3 times",
                          detail="traceId trace-abc", severity="critical")]


@pytest.fixture
def admins(make_user):
    make_user("boss@example.com", "Admin")
    make_user("ops@example.com", "Admin")
    make_user("marketer@example.com", "Marketer")


def test_a_condition_raises_one_alert_and_one_mail_to_every_admin(admins, now):
    check = Switch()
    outcome = alerts_evaluate(now=now, checks={"location.failing": check})
    assert outcome["raised"] == 1
    alert = Alert.objects.get()
    assert (alert.state, alert.dedupe_key, alert.first_seen_at, alert.notify_count) == (
        "open", "location.failing:LOC1", now, 1)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["boss@example.com", "ops@example.com"]
    assert "Bakery: tags refresh failed 3 times" in message.subject and "trace-abc" in message.body
    assert "trace-abc" in message.alternatives[0][0]
    raised = Event.objects.get(type=Event.Type.ALERT_RAISED)
    assert raised.payload["key"] == "location.failing:LOC1" and raised.subject_id == str(alert.pk)


def test_the_same_condition_seen_again_stays_one_alert_without_new_mail(admins, now):
    check = Switch()
    for minutes in range(0, 30):
        alerts_evaluate(now=now + timedelta(minutes=minutes), checks={"location.failing": check})
    alert = Alert.objects.get()
    assert alert.last_seen_at == now + timedelta(minutes=29)
    assert len(mail.outbox) == 1
    assert Event.objects.filter(type=Event.Type.ALERT_RAISED).count() == 1


def test_an_open_alert_is_mailed_again_only_after_the_throttle(admins, now, settings):
    settings.ALERT_RENOTIFY_HOURS = 6
    checks = {"location.failing": Switch()}
    alerts_evaluate(now=now, checks=checks)
    alerts_evaluate(now=now + timedelta(hours=5, minutes=59), checks=checks)
    assert len(mail.outbox) == 1
    assert alerts_evaluate(now=now + timedelta(hours=6), checks=checks)["renotified"] == 1
    assert len(mail.outbox) == 2 and "Still failing" in mail.outbox[1].subject
    alerts_evaluate(now=now + timedelta(hours=7), checks=checks)
    assert len(mail.outbox) == 2
    assert Alert.objects.get().notify_count == 2


def test_an_acknowledged_alert_is_not_mailed_again_but_still_resolves(admins, now, admin_user):
    check = Switch()
    alerts_evaluate(now=now, checks={"location.failing": check})
    assert alert_acknowledge(Alert.objects.get(), user=admin_user, now=now)
    alerts_evaluate(now=now + timedelta(days=2), checks={"location.failing": check})
    assert len(mail.outbox) == 1
    check.on = False
    alerts_evaluate(now=now + timedelta(days=2, minutes=1), checks={"location.failing": check})
    assert Alert.objects.get().state == "resolved" and len(mail.outbox) == 2


def test_a_cleared_condition_resolves_the_alert_with_a_note_and_says_so(admins, now):
    check = Switch()
    alerts_evaluate(now=now, checks={"location.failing": check})
    check.on = False
    outcome = alerts_evaluate(now=now + timedelta(minutes=1), checks={"location.failing": check})
    assert outcome["resolved"] == 1
    alert = Alert.objects.get()
    assert alert.state == "resolved" and alert.resolved_at == now + timedelta(minutes=1)
    assert alert.resolution_note == "The location's refresh succeeded again."
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["[Tagscope] Critical", "[Tagscope] Resolved"]
    assert "succeeded again" in mail.outbox[1].body
    assert Event.objects.get(type=Event.Type.ALERT_RESOLVED).payload["resolution_note"] == alert.resolution_note
    # It comes back: a new alert, told at once.
    check.on = True
    alerts_evaluate(now=now + timedelta(minutes=2), checks={"location.failing": check})
    assert Alert.objects.filter(state="open").count() == 1 and Alert.objects.count() == 2
    assert len(mail.outbox) == 3


def test_a_check_that_breaks_leaves_its_alerts_alone(admins, now):
    check = Switch()
    alerts_evaluate(now=now, checks={"location.failing": check})

    def broken(now):
        raise RuntimeError("database hiccup")

    outcome = alerts_evaluate(now=now + timedelta(minutes=1), checks={"location.failing": broken})
    assert outcome["resolved"] == 0 and Alert.objects.get().state == "open"


def test_two_evaluators_at_once_raise_one_alert(admins, now):
    Alert.objects.create(kind="location.failing", dedupe_key="location.failing:LOC1", title="x",
                         first_seen_at=now, last_seen_at=now)
    from integrations.alerts.engine import _raise

    assert _raise(Switch()(now)[0], now) is None
    assert Alert.objects.count() == 1


def test_a_mail_that_fails_is_tried_again_next_minute(admins, now, settings):
    settings.EMAIL_BACKEND = "tests.integrations.alerts.test_engine.BrokenBackend"
    check = Switch()
    alerts_evaluate(now=now, checks={"location.failing": check})
    assert Alert.objects.get().notified_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    alerts_evaluate(now=now + timedelta(minutes=1), checks={"location.failing": check})
    assert len(mail.outbox) == 1 and Alert.objects.get().notify_count == 1


def test_the_scheduled_task_uses_the_real_clock(admins, heartbeat, now):
    from integrations.tasks import alerts_evaluate as task

    with time_machine.travel(now + timedelta(minutes=10), tick=False):
        assert task()["raised"] == 1  # the heartbeat is 10.5 minutes old
    assert Alert.objects.get().dedupe_key == "worker.missing"


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP server down")
