"""The goals page and the overview's needs-attention and goals columns: everyone signed in reads them; only
admins set goals, thresholds and mutes (checked on the server, not only hidden)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Alert, AnomalyMute, AnomalyThreshold, AuditEntry, Goal
from tests.dashboard.browsing_factories import location_make

pytestmark = pytest.mark.django_db


def open_item(location, kind="account.expired", reason="facebook account Bakery page expired"):
    now = timezone.now()
    return Alert.objects.create(kind=kind, dedupe_key=f"{kind}:{location.location_id}:x", title=f"{location.name}: "
                                f"{reason}", context={"reason": reason}, location=location, first_seen_at=now,
                                last_seen_at=now)


def test_an_admin_sets_a_goal_and_everyone_sees_its_pacing(admin_http, client, marketer_user):
    acme = location_make("loc-a", "Acme")
    answer = admin_http.post("/locations/loc-a/goals/edit/", {"action": "goal", "kind": "posts_per_week",
                                                               "platform": "", "target": "5"})
    assert answer.status_code == 302
    goal = Goal.objects.get(location=acme)
    assert (goal.kind, goal.target) == ("posts_per_week", 5)
    assert AuditEntry.objects.filter(action="goal.set").exists()
    admin_http.post("/locations/loc-a/goals/edit/", {"action": "goal", "kind": "posts_per_week", "target": "7"})
    assert Goal.objects.get(location=acme).target == 7  # the same goal, changed
    client.force_login(marketer_user)
    page = client.get("/locations/loc-a/goals/").content.decode()
    assert "Posts per week" in page and "Off track" in page and "Save goal" not in page
    cell = client.get("/").content.decode().split('data-testid="goals"')[1].split("</td>")[0]
    assert "Off track" in cell and "Posts per week" in cell
    assert 'title="target 7, heading for 0"' in cell and "· 0%" in cell
    assert "Off track" in client.get("/locations/loc-a/statistics/").content.decode()


@pytest.mark.parametrize("data", [
    {"action": "goal", "kind": "posts_per_week", "target": "5"},
    {"action": "monitoring", "threshold": "6", "muted": ["impressions"]},
    {"action": "delete", "goal_id": "1"},
])
def test_a_marketer_cannot_set_goals_thresholds_or_mutes(marketer_http, data):
    location_make("loc-a", "Acme")
    assert marketer_http.post("/locations/loc-a/goals/edit/", data).status_code == 403
    assert not Goal.objects.exists() and not AnomalyMute.objects.exists() and not AnomalyThreshold.objects.exists()


def test_an_admin_mutes_a_metric_and_sets_the_threshold_then_unmutes(admin_http):
    acme = location_make("loc-a", "Acme")
    admin_http.post("/locations/loc-a/goals/edit/", {"action": "monitoring", "threshold": "6",
                                                      "muted": ["impressions", "reach"]})
    assert set(AnomalyMute.objects.values_list("metric", flat=True)) == {"impressions", "reach"}
    assert AnomalyThreshold.objects.get(location=acme).threshold == 6
    admin_http.post("/locations/loc-a/goals/edit/", {"action": "monitoring", "threshold": "", "muted": ["reach"]})
    assert list(AnomalyMute.objects.values_list("metric", flat=True)) == ["reach"]
    assert not AnomalyThreshold.objects.exists()


@pytest.mark.parametrize("data", [
    {"action": "goal", "kind": "posts_per_week", "target": "-1"},
    {"action": "goal", "kind": "nonsense", "target": "3"},
    {"action": "goal", "kind": "posts_per_week", "platform": "myspace", "target": "3"},
    {"action": "monitoring", "threshold": "0.1"},
    {"action": "monitoring", "muted": ["posts"]},
    {"action": "delete", "goal_id": "abc"},
])
def test_nonsense_gets_a_clear_answer_and_changes_nothing(admin_http, data):
    location_make("loc-a", "Acme")
    answer = admin_http.post("/locations/loc-a/goals/edit/", data)
    assert answer.status_code in (302, 400)
    assert not Goal.objects.exists() and not AnomalyMute.objects.exists() and not AnomalyThreshold.objects.exists()


def test_the_overview_shows_each_needs_attention_reason_and_sorts_by_it(marketer_http):
    location_make("loc-a", "Acme")
    bistro = location_make("loc-b", "Bistro")
    open_item(bistro)
    open_item(bistro, "post.failed", "post failed on Instagram")
    answer = marketer_http.get("/")
    assert [loc.location_id for loc in answer.context["locations"]] == ["loc-b", "loc-a"]
    html = answer.content.decode()
    assert "Account expired" in html and "facebook account Bakery page expired" in html and "Post failed" in html
    api = marketer_http.get("/api/v1/locations/").json()["results"]
    assert api[0]["id"] == "loc-b" and {i["kind"] for i in api[0]["needs_attention"]} == {"account.expired",
                                                                                          "post.failed"}


def test_a_resolved_item_leaves_the_overview(marketer_http):
    acme = location_make("loc-a", "Acme")
    alert = open_item(acme)
    Alert.objects.filter(pk=alert.pk).update(state="resolved", resolved_at=timezone.now() + timedelta(seconds=1))
    assert "Account expired" not in marketer_http.get("/").content.decode()


def test_an_admin_makes_a_threshold_the_default_for_every_location(admin_http):
    acme = location_make("loc-a", "Acme")
    admin_http.post("/locations/loc-a/goals/edit/", {"action": "monitoring", "threshold": "6"})
    admin_http.post("/locations/loc-a/goals/edit/", {"action": "monitoring", "threshold": "5", "as_default": "on"})
    assert AnomalyThreshold.objects.get(location__isnull=True).threshold == 5
    assert not AnomalyThreshold.objects.filter(location=acme).exists()
    assert "The default threshold is 5" in admin_http.get("/locations/loc-a/goals/").content.decode()
    answer = admin_http.post("/locations/loc-a/goals/edit/", {"action": "monitoring", "as_default": "on"})
    assert answer.status_code == 400 and "Give the threshold" in answer.content.decode()


def test_pacing_numbers_read_as_floatformat_and_intcomma_wrote_them():
    from dashboard.templatetags.humanize_report import figure, percent

    assert [figure(v) for v in (12000.0, 1234.56, 7, None)] == ["12,000", "1,234.6", "7", "\u2013"]
    assert [percent(v) for v in (49.5, 50.4, 1234.5, 0, None)] == ["50", "50", "1,235", "0", "\u2013"]
