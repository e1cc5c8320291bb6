"""Goals and health as alerts: each condition raises exactly one alert, one mail and one typed event, stays one
while it holds, clears when fixed, and stays quiet on partial data. The clock is the conftest's NOW."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from integrations.alerts.attention import ATTENTION_CHECKS
from integrations.alerts.engine import alerts_evaluate
from integrations.models import Alert, AnomalyMute, Event, Goal, Post, SocialAccount, StatisticsPoint, SyncRun
from tests.integrations.alerts.conftest import NOW

NEW_TYPES = ("account.expired", "account.expiring", "post.failed", "schedule.empty", "statistics.anomaly",
             "goal.off_track", "goal.on_track")


@pytest.fixture(autouse=True)
def _admin(admin_user):
    return admin_user  # someone to mail


def evaluate(now=NOW):
    return alerts_evaluate(now=now, checks=ATTENTION_CHECKS)


def typed(kind: str) -> list[Event]:
    return list(Event.objects.filter(type=kind))


def assert_raised_once(kind: str) -> Event:
    assert evaluate()["raised"] >= 1
    for _ in range(3):
        assert evaluate()["raised"] == 0
    alerts = Alert.objects.filter(kind=kind)
    assert alerts.count() == 1 and alerts.get().state == "open"
    assert sum(1 for m in mail.outbox if alerts.get().title in m.subject) == 1
    events = typed(kind)
    assert len(events) == 1
    payload = events[0].payload
    assert payload["type"] == kind and payload["occurred_at"] == NOW.isoformat()
    assert payload["location_id"] == "LOCfailing01"
    return events[0]


def account(location, **fields) -> SocialAccount:
    return SocialAccount.objects.create(location=location, account_id="oauth1_LOCfailing01_555_page",
                                        profile_id="555", platform="facebook", name="Bakery page",
                                        first_seen_at=NOW, last_seen_at=NOW, **fields)


def test_an_expired_account_raises_account_expired_once_and_clears_when_reconnected(location):
    acc = account(location, expired=True, expires_at=NOW - timedelta(days=2))
    event = assert_raised_once("account.expired")
    assert event.payload["account_id"] == acc.account_id and event.payload["is_expired"] is True
    assert event.payload["platform"] == "facebook"
    SocialAccount.objects.filter(pk=acc.pk).update(expired=False, expires_at=NOW + timedelta(days=60))
    assert evaluate()["resolved"] == 1
    assert Alert.objects.get(kind="account.expired").state == "resolved"
    assert len(typed("account.expired")) == 1 and not typed("account.expiring")


def test_an_account_expiring_within_seven_days_raises_account_expiring(location):
    account(location, expires_at=NOW + timedelta(days=3))
    event = assert_raised_once("account.expiring")
    assert event.payload["expire"] == (NOW + timedelta(days=3)).isoformat()
    SocialAccount.objects.update(expires_at=NOW + timedelta(days=30))
    assert evaluate()["resolved"] == 1


def test_an_account_expiring_in_eight_days_is_quiet(location):
    account(location, expires_at=NOW + timedelta(days=8))
    assert evaluate()["raised"] == 0 and not Event.objects.exists()


def test_a_post_failed_in_the_last_day_raises_post_failed_with_highlevels_error(location):
    failed = Post.objects.create(location=location, post_id="post-1", status="failed", platform="instagram",
                                 account_id="acc-1", error="Media upload failed: the video is too short.",
                                 scheduled_at=NOW - timedelta(hours=3), last_seen_at=NOW)
    Post.objects.create(location=location, post_id="post-old", status="failed", platform="instagram",
                        error="old", scheduled_at=NOW - timedelta(days=3), last_seen_at=NOW)
    event = assert_raised_once("post.failed")
    assert event.payload["post_id"] == "post-1" and event.payload["error"] == failed.error
    assert "Media upload failed" in Alert.objects.get().detail
    Post.objects.filter(pk=failed.pk).update(status="published", error="")  # retried and went out
    assert evaluate()["resolved"] == 1


def test_an_empty_schedule_with_a_posting_goal_raises_schedule_empty(location):
    location.posts_covered_from = NOW - timedelta(days=90)
    location.save(update_fields=["posts_covered_from"])
    goal = Goal.objects.create(location=location, kind=Goal.Kind.POSTS_PER_WEEK, target=3)
    event = assert_raised_once("schedule.empty")
    assert event.payload["goal_id"] == goal.pk and event.payload["posts_per_week"] == 3
    Post.objects.create(location=location, post_id="next", status="scheduled", platform="facebook",
                        scheduled_at=NOW + timedelta(days=2), last_seen_at=NOW)
    evaluate()
    assert Alert.objects.get(kind="schedule.empty").state == "resolved"


def test_an_empty_schedule_without_a_posting_goal_is_quiet(location):
    location.posts_covered_from = NOW - timedelta(days=90)
    location.save(update_fields=["posts_covered_from"])
    Goal.objects.create(location=location, kind=Goal.Kind.IMPRESSIONS, target=10)
    evaluate()
    assert not Alert.objects.filter(kind="schedule.empty").exists()


def test_a_goal_off_track_raises_goal_off_track_and_back_on_track_goal_on_track(location):
    location.timezone = "UTC"
    location.save(update_fields=["timezone"])
    goal = Goal.objects.create(location=location, kind=Goal.Kind.POSTS_PER_WEEK, target=2)
    event = assert_raised_once("goal.off_track")
    assert event.payload["goal_id"] == goal.pk and event.payload["state"] == "off_track"
    assert event.payload["projection"] == 0 and event.payload["target"] == 2
    for n in range(2):
        Post.objects.create(location=location, post_id=f"s{n}", status="scheduled", platform="facebook",
                            scheduled_at=NOW + timedelta(hours=5 + n), last_seen_at=NOW)
    assert evaluate()["resolved"] == 1
    on_track = typed("goal.on_track")
    assert len(on_track) == 1 and on_track[0].payload["state"] == "on_track"
    assert on_track[0].payload["location_id"] == "LOCfailing01"


def test_a_goal_at_risk_keeps_an_open_off_track_item_without_a_second_event(location, settings):
    settings.GOAL_AT_RISK_PCT = 50.0
    location.timezone = "UTC"
    location.save(update_fields=["timezone"])
    Goal.objects.create(location=location, kind=Goal.Kind.POSTS_PER_WEEK, target=4)
    evaluate()
    Post.objects.create(location=location, post_id="s1", status="scheduled", platform="facebook",
                        scheduled_at=NOW + timedelta(hours=5), last_seen_at=NOW)
    Post.objects.create(location=location, post_id="s2", status="scheduled", platform="facebook",
                        scheduled_at=NOW + timedelta(hours=6), last_seen_at=NOW)  # 2 of 4: at risk
    assert evaluate() == {"raised": 0, "renotified": 0, "resolved": 0, "open": 1}
    assert len(typed("goal.off_track")) == 1 and not typed("goal.on_track")


# --- anomalies ---------------------------------------------------------------------------------------------
YESTERDAY = NOW.date() - timedelta(days=1)
WEEKLY = (1.0, 1.06, 1.12, 1.08, 1.0, 0.82, 0.76)


def history(location, *, yesterday_factor: float = 1.0, metric: str = "impressions"):
    rows = []
    for n in range(1, 36):
        day = NOW.date() - timedelta(days=n)
        value = round(1000 * WEEKLY[day.weekday()] * (1 + 0.03 * ((n * 7) % 5 - 2)))
        if day == YESTERDAY:
            value = round(value * yesterday_factor)
        rows.append(StatisticsPoint(location=location, profile_id="", platform="", metric=metric, day=day,
                                    value=value, fetched_at=NOW))
    StatisticsPoint.objects.bulk_create(rows)


def statistics_run(location, *, started=NOW - timedelta(hours=2), status="succeeded", problems=()):
    return SyncRun.objects.create(kind=SyncRun.Kind.STATISTICS, status=status, location=location,
                                  started_at=started, finished_at=started + timedelta(minutes=1),
                                  problems=list(problems))


def test_a_metric_that_halves_raises_statistics_anomaly_with_the_expected_range(location):
    history(location, yesterday_factor=0.5)
    statistics_run(location)
    event = assert_raised_once("statistics.anomaly")
    p = event.payload
    assert p["metric"] == "impressions" and p["day"] == YESTERDAY.isoformat() and p["direction"] == "drop"
    assert p["expected_range"]["low"] <= p["expected"] <= p["expected_range"]["high"]
    assert p["actual"] < p["expected_range"]["low"] and p["platform"] is None


def test_a_normal_day_raises_nothing(location):
    history(location)
    statistics_run(location)
    assert evaluate()["raised"] == 0 and not Event.objects.exists()


@pytest.mark.parametrize("partial", ["before_the_day_ended", "with_problems", "failed"])
def test_a_half_synced_day_or_a_troubled_sync_never_alarms(location, partial):
    history(location, yesterday_factor=0.5)
    if partial == "before_the_day_ended":  # the last refresh read yesterday while it was still going on
        statistics_run(location, started=NOW - timedelta(hours=13))
    elif partial == "with_problems":
        statistics_run(location, problems=["statistics: a day's impressions were not a number"])
    else:
        statistics_run(location)
        statistics_run(location, started=NOW - timedelta(minutes=30), status="failed")
    assert evaluate()["raised"] == 0 and not Event.objects.exists()


def test_an_open_anomaly_is_held_while_the_data_cannot_be_judged_then_cleared(location):
    history(location, yesterday_factor=0.5)
    statistics_run(location)
    evaluate()
    statistics_run(location, started=NOW - timedelta(minutes=30), status="failed")
    assert evaluate()["resolved"] == 0  # a failed refresh neither raises nor clears
    StatisticsPoint.objects.filter(day=YESTERDAY).update(value=1060)
    statistics_run(location, started=NOW - timedelta(minutes=10))
    assert evaluate()["resolved"] == 1
    assert len(typed("statistics.anomaly")) == 1


def test_a_muted_metric_raises_nothing_and_muting_clears_an_open_one(location):
    history(location, yesterday_factor=0.5)
    statistics_run(location)
    evaluate()
    AnomalyMute.objects.create(location=location, metric="impressions")
    assert evaluate()["resolved"] == 1
    assert len(typed("statistics.anomaly")) == 1


def test_every_new_event_type_is_one_destinations_can_subscribe_to():
    assert set(NEW_TYPES) <= set(Event.Type.values)


def test_todays_partial_number_is_never_judged(location):
    """On the afternoon of the halved day the number is still growing: the day judged is the one before."""
    history(location, yesterday_factor=0.5)
    afternoon = NOW - timedelta(days=1) + timedelta(hours=4)  # YESTERDAY at 16:00
    statistics_run(location, started=afternoon - timedelta(hours=1))
    assert alerts_evaluate(now=afternoon, checks=ATTENTION_CHECKS)["raised"] == 0


def test_an_admins_threshold_decides_what_is_an_anomaly(location):
    from integrations.models import AnomalyThreshold

    history(location, yesterday_factor=0.5)
    statistics_run(location)
    AnomalyThreshold.objects.create(location=None, threshold=2.0)
    AnomalyThreshold.objects.create(location=location, threshold=40.0)  # this location's own wins
    assert evaluate()["raised"] == 0
    AnomalyThreshold.objects.filter(location=location).delete()
    assert evaluate()["raised"] == 1
    assert Event.objects.get(type="statistics.anomaly").payload["threshold"] == 2.0


def test_the_minute_check_reads_a_locations_points_only_when_a_new_refresh_or_setting_came(location, monkeypatch):
    from integrations.attention import health

    reads = []
    real = health._series
    monkeypatch.setattr(health, "_series", lambda loc, *a: reads.append(loc.pk) or real(loc, *a))
    history(location, yesterday_factor=0.5)
    statistics_run(location)
    assert evaluate()["raised"] == 1
    for _ in range(3):  # nothing changed: the stored answer, the alert kept open
        result = evaluate()
        assert (result["raised"], result["resolved"]) == (0, 0)
    assert reads == [location.pk]
    StatisticsPoint.objects.filter(day=YESTERDAY).update(value=1060)
    statistics_run(location, started=NOW - timedelta(minutes=10))  # a new refresh: read again
    assert evaluate()["resolved"] == 1
    AnomalyMute.objects.create(location=location, metric="reach")  # new settings: read again
    evaluate()
    assert reads == [location.pk] * 3
