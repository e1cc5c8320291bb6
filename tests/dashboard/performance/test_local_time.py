"""The heatmap's local weekday and hour, computed in SQL (local_time.py), equal Python's astimezone for every
post: across DST changes, in half-hour zones, near midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dashboard.selectors.local_time import LocalHour, LocalIsoWeekday, offset_segments
from integrations.models import Post
from tests.dashboard.browsing_factories import location_make

ZONES = ("America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London", "UTC", "Pacific/Chatham")


def test_offset_segments_find_each_change_within_the_window():
    zone = ZoneInfo("America/New_York")
    lo, hi = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    assert offset_segments(zone, lo, hi) == [(None, -300), (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), -240),
                                             (datetime(2026, 11, 1, 6, 0, tzinfo=UTC), -300)]
    assert offset_segments(ZoneInfo("Asia/Kolkata"), lo, hi) == [(None, 330)]


def test_a_nonsense_range_is_scanned_within_sane_years_only():
    zone = ZoneInfo("Europe/London")
    segments = offset_segments(zone, datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC))
    assert segments[0] == (None, 0) and 200 < len(segments) < 260  # two changes a year, 1990 to 2100


@pytest.mark.django_db
@pytest.mark.parametrize("name", ZONES)
def test_local_weekday_and_hour_equal_python_s(name):
    zone = ZoneInfo(name)
    location = location_make(f"loc-{name.replace('/', '-')}", name, tz=name)
    lo, hi = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 2, tzinfo=UTC)
    # Every 7 h 35 min over a year: every hour and weekday, both sides of each DST change, near midnight.
    instants, at = [], lo
    while at < hi:
        instants.append(at)
        at += timedelta(hours=7, minutes=35)
    now = timezone.now()
    Post.objects.bulk_create([Post(location=location, post_id=f"p{n}", status="published", platform="facebook",
                                   published_at=when, at=when, last_seen_at=now)
                              for n, when in enumerate(instants)])
    span = {"zone": zone, "lo": lo, "hi": hi}
    found = dict((pid, (day, hour)) for pid, day, hour in Post.objects.filter(location=location).annotate(
        day=LocalIsoWeekday("published_at", **span), hour=LocalHour("published_at", **span))
        .values_list("post_id", "day", "hour"))
    expected = {f"p{n}": (when.astimezone(zone).isoweekday(), when.astimezone(zone).hour)
                for n, when in enumerate(instants)}
    assert found == expected
