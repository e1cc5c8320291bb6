"""The weekly digest from known rows: totals and changes, top tags by new posts, links, both parts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from integrations.alerts.digest import digest_preference_set, weekly_digest_send
from integrations.models import Post, StatisticsPoint, Tag, TagPost

pytestmark = pytest.mark.django_db


@pytest.fixture
def week_of_data(location, now):
    end = now.date() - timedelta(days=1)  # Tuesday 3 March; the week is 25 Feb .. 3 Mar
    for n in range(14):
        day = end - timedelta(days=n)
        this_week = n < 7
        for metric, value in (("impressions", 150 if this_week else 100), ("likes", 10 if this_week else 20)):
            StatisticsPoint.objects.create(location=location, profile_id="", platform="", metric=metric, day=day,
                                           value=value, fetched_at=now)
    tags = {name: Tag.objects.create(location=location, tag_id=f"t-{name}", name=name, sort_name=name.casefold(),
                                     first_seen_at=now, last_seen_at=now) for name in ("Sourdough", "Croissant", "Old")}
    posts = [("p1", 1, ["Sourdough", "Croissant"]), ("p2", 2, ["Sourdough"]), ("p3", 3, ["Sourdough"]),
             ("p4", 20, ["Old"])]  # p4 is from before the week
    for post_id, days_ago, names in posts:
        post = Post.objects.create(location=location, post_id=post_id, published_at=now - timedelta(days=days_ago),
                                   last_seen_at=now)
        for name in names:
            TagPost.objects.create(location=location, tag_id=tags[name].tag_id, post=post)


def test_the_digest_goes_to_those_who_asked_with_totals_changes_and_top_tags(make_user, week_of_data, now,
                                                                               settings):
    settings.PUBLIC_BASE_URL = "https://tagscope.example.com"
    fan = make_user("fan@example.com", "Marketer")
    make_user("quiet@example.com", "Admin")
    digest_preference_set(user=fan, weekly_digest=True)
    assert weekly_digest_send(now=now) == 1
    message = mail.outbox[0]
    assert message.to == ["fan@example.com"]
    assert "25 Feb to 03 Mar 2026" in message.subject
    text, (html, mimetype) = message.body, message.alternatives[0]
    assert mimetype == "text/html"
    assert "== Downtown Bakery ==" in text
    assert "Impressions: 1,050 (week before 700, +50.0%)" in text
    assert "Likes: 70 (week before 140, -50.0%)" in text
    assert "1. Sourdough: 3 posts" in text and "2. Croissant: 1 post" in text and "Old" not in text
    assert "Charts: https://tagscope.example.com/locations/LOCfailing01/statistics/" in text
    assert "Downtown Bakery" in html and "1,050" in html and "+50.0%" in html and "-50.0%" in html
    assert "Sourdough: 3 posts" in html
    assert 'href="https://tagscope.example.com/locations/LOCfailing01/statistics/"' in html


def test_nobody_opted_in_means_no_mail(make_user, location, now):
    user = make_user("fan@example.com", "Marketer")
    digest_preference_set(user=user, weekly_digest=False)
    assert weekly_digest_send(now=now) == 0 and mail.outbox == []


def test_a_location_without_data_says_so(make_user, location, now):
    digest_preference_set(user=make_user("fan@example.com", "Marketer"), weekly_digest=True)
    weekly_digest_send(now=now)
    assert "No statistics for this week yet." in mail.outbox[0].body
    assert "No tagged posts this week." in mail.outbox[0].body


def test_the_schedule_is_weekly_and_idempotent(db):
    from django_q.models import Schedule

    from integrations.schedules import ALERTS, WEEKLY_DIGEST, ensure_schedules

    ensure_schedules()
    first = Schedule.objects.get(name=WEEKLY_DIGEST)
    ensure_schedules()
    again = Schedule.objects.get(name=WEEKLY_DIGEST)
    assert again.next_run == first.next_run and again.schedule_type == Schedule.WEEKLY
    assert first.next_run.weekday() == 0 and first.next_run.hour == 7
    assert Schedule.objects.get(name=ALERTS).minutes == 1
    assert Schedule.objects.filter(name__in=[ALERTS, WEEKLY_DIGEST]).count() == 2


def test_the_digest_opens_with_what_needs_attention(make_user, location, now, settings):
    settings.PUBLIC_BASE_URL = "https://tagscope.example.com"
    from integrations.models import Alert

    digest_preference_set(user=make_user("fan@example.com", "Marketer"), weekly_digest=True)
    for kind, reason, state in (("post.failed", "post failed on Instagram", "open"),
                                ("account.expiring", "facebook account Bakery expires in 3 days", "acknowledged"),
                                ("schedule.empty", "nothing scheduled in the next 7 days", "resolved"),
                                ("location.failing", "tags refresh failed 3 times in a row", "open")):
        Alert.objects.create(kind=kind, dedupe_key=f"{kind}:x", state=state, title=reason, context={"reason": reason},
                             location=location, first_seen_at=now, last_seen_at=now)
    assert weekly_digest_send(now=now) == 1
    message = mail.outbox[0]
    text, html = message.body, message.alternatives[0][0]
    section = text.split("== Needs attention ==")[1].split("== Downtown Bakery ==")[0]
    assert "post failed on Instagram" in section and "expires in 3 days" in section
    assert "nothing scheduled" not in section and "tags refresh failed" not in section  # resolved; not goals/health
    assert "https://tagscope.example.com/locations/LOCfailing01/goals/" in section
    assert "Needs attention" in html and "post failed on Instagram" in html
