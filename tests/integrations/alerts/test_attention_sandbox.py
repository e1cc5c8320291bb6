"""Issue 22's "done when", over the live sandbox with nothing faked: on a normal day nothing fires; an expired
account, a failed post, a metric that halves and a location that misses its posting goal each show on the
overview after one refresh, each reaches a destination made with `add_destination` as a signed event, once;
fixing each clears it. The sandbox's clock and Django's are pinned to the same Monday morning."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from dashboard.devtools.demo import sandbox_agency_connect
from dashboard.devtools.receiver import ReceiverServer
from integrations.alerts.attention import ATTENTION_CHECKS
from integrations.alerts.engine import alerts_evaluate
from integrations.attention.goals import goal_pacing
from integrations.attention.services import goal_set
from integrations.delivery import sending
from integrations.models import Alert, Event, Location, SocialAccount
from integrations.sync.services import refresh_location_enqueue

MONDAY = datetime(2026, 3, 9, 9, 30, tzinfo=UTC)
NEW_TYPES = ["account.expired", "account.expiring", "post.failed", "schedule.empty", "statistics.anomaly",
             "goal.off_track", "goal.on_track"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def receiver(settings):
    settings.DESTINATION_ALLOWED_HOSTS = ["127.0.0.1"]
    server = ReceiverServer([]).start()
    yield server
    server.stop()


def refresh(*locations: Location) -> None:
    for location in locations:
        run = refresh_location_enqueue(location)
        run.refresh_from_db()
        assert run.status == "succeeded", run.error


def evaluate() -> dict:
    return alerts_evaluate(now=timezone.now(), checks=ATTENTION_CHECKS)


def test_each_planted_fault_shows_after_one_refresh_and_reaches_a_destination_signed(
        hl, clock, receiver, admin_user, admin_http):
    hl.reset(now=MONDAY.isoformat())
    agency = sandbox_agency_connect(hl, redirect_uri="http://testserver/connections/oauth/callback/")
    first, second = Location.objects.filter(connection=agency).order_by("location_id")[:2]
    out = StringIO()
    call_command("add_destination", "Ops", receiver.url + "/ops", "--events", ",".join(NEW_TYPES), stdout=out)
    receiver.receiver.secrets.append(re.search(r"Signing secret \(shown only now\): (\S+)", out.getvalue())[1])

    refresh(first, second)
    # A posting goal each location meets as planned today (published so far plus scheduled for the week).
    for location in (first, second):
        goal = goal_set(location=location, kind="posts_per_week", platform="", target=1, actor=admin_user)
        goal_set(location=location, kind="posts_per_week", platform="", actor=admin_user,
                 target=goal_pacing(goal, now=timezone.now()).projection)
    assert evaluate()["raised"] == 0, list(Alert.objects.values_list("title", flat=True))  # a normal day
    assert not Event.objects.filter(type__in=NEW_TYPES).exists()

    # Plant: an expired account, a failed post and impressions halved at the first; an empty schedule at the second.
    account = SocialAccount.objects.filter(location=first).order_by("pk").first()
    hl.expire_account(first.location_id, account.account_id)
    planted = hl.fail_post(first.location_id, "Session has expired. Please reconnect the Facebook page.")
    hl.drop_metric(first.location_id, "impressions", factor=0.5)
    hl.empty_schedule(second.location_id)
    refresh(first, second)  # one refresh
    evaluate()

    raised = Counter(Event.objects.filter(type__in=NEW_TYPES).values_list("type", flat=True))
    assert raised["account.expired"] == 1 and raised["post.failed"] == 1
    assert raised["schedule.empty"] == 1 and raised["goal.off_track"] == 1
    anomalies = Event.objects.filter(type="statistics.anomaly")
    assert {e.payload["metric"] for e in anomalies} == {"impressions"}
    whole = anomalies.get(payload__platform=None)
    assert whole.location_id == first.pk and whole.payload["direction"] == "drop"
    assert whole.payload["actual"] < whole.payload["expected_range"]["low"]
    failed = Event.objects.get(type="post.failed")
    assert failed.payload["post_id"] == planted["_id"] and "Session has expired" in failed.payload["error"]
    assert Event.objects.get(type="account.expired").payload["account_id"] == account.account_id
    assert Event.objects.get(type="goal.off_track").location_id == second.pk
    assert Alert.objects.filter(state="open").count() == sum(raised.values())  # one alert per event

    overview = admin_http.get("/")
    rows = overview.context["locations"]
    assert {rows[0].location_id, rows[1].location_id} == {first.location_id, second.location_id}
    html = overview.content.decode()
    for label in ("Account expired", "Post failed", "Anomaly", "Schedule empty", "Goal off track"):
        assert label in html

    sending.deliveries_sweep()
    messages = receiver.receiver.received()
    assert all(m["valid"] is True for m in messages)
    delivered = Counter(m["body"]["type"] for m in messages)
    assert delivered == raised
    sample = next(m["body"] for m in messages if m["body"]["type"] == "account.expired")
    assert sample["data"]["location_id"] == first.location_id and sample["data"]["occurred_at"]
    assert sample["data"]["payload"]["account_id"] == account.account_id

    # Fixed: each clears, and the goal back on track says so once.
    hl.expire_account(first.location_id, account.account_id, expired=False)
    hl.publish_failed_posts(first.location_id)
    hl.clear_drops(first.location_id)
    hl.restore_schedule(second.location_id)
    refresh(first, second)
    evaluate()
    assert not Alert.objects.filter(state="open").exists()
    assert Event.objects.filter(type="goal.on_track").count() == 1
    assert "Account expired" not in admin_http.get("/").content.decode()
