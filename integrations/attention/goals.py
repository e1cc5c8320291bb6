"""Goal pacing: how far a location is towards each goal in the current period, and where it will end.

Periods are the location's calendar week (Monday to Sunday) for posts, its calendar month for the rest, in
its time zone. "Done" counts what is known so far; the projection to the period's end:
- posts per week: published so far plus those scheduled for the rest of the week (HighLevel's own plan);
- impressions per month: the sum over the complete days so far, extended at the same daily rate;
- follower growth per month: the gain since the month began, extended at the same daily rate;
- engagement per post: the month's engagement over its posts so far (a ratio: it projects as it stands).
State: "on_track" when the projection reaches the target, "at_risk" when it reaches GOAL_AT_RISK_PCT of it,
"off_track" below that, "no_data" when nothing can be said yet (no complete day in the month).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, Sum

from integrations.models import Goal, Location, Post, StatisticsPoint

ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA = "on_track", "at_risk", "off_track", "no_data"
STATE_LABELS = {ON_TRACK: "On track", AT_RISK: "At risk", OFF_TRACK: "Off track", NO_DATA: "Too early to tell"}


@dataclass(frozen=True)
class Pacing:
    goal: Goal
    period_start: date
    period_end: date
    done: float | None  # so far
    projection: float | None  # at the period's end
    state: str

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def percent(self) -> float | None:
        """The projection as a percentage of the target."""
        if self.projection is None or not self.goal.target:
            return None
        return round(100.0 * self.projection / self.goal.target, 1)

    def as_dict(self) -> dict:
        goal = self.goal
        return {"goal_id": goal.pk, "kind": goal.kind, "label": goal.get_kind_display(),
                "platform": goal.platform, "target": goal.target, "period_start": self.period_start.isoformat(),
                "period_end": self.period_end.isoformat(), "done": self.done, "projection": self.projection,
                "percent": self.percent, "state": self.state}


def _today(location: Location, now: datetime) -> date:
    try:
        zone = ZoneInfo(location.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()


def period_of(kind: str, today: date) -> tuple[date, date]:
    if kind == Goal.Kind.POSTS_PER_WEEK:
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=6)
    last = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=1), today.replace(day=last)


def state_for(projection: float | None, target: float) -> str:
    if projection is None:
        return NO_DATA
    if projection >= target:
        return ON_TRACK
    return AT_RISK if projection >= target * settings.GOAL_AT_RISK_PCT / 100 else OFF_TRACK


def goal_pacing(goal: Goal, *, now: datetime) -> Pacing:
    location = goal.location
    today = _today(location, now)
    start, end = period_of(goal.kind, today)
    done, projection = _measure(goal, location, start, end, today, now)
    return Pacing(goal=goal, period_start=start, period_end=end, done=done, projection=projection,
                  state=state_for(projection, goal.target))


def _measure(goal: Goal, location: Location, start: date, end: date, today: date,
             now: datetime) -> tuple[float | None, float | None]:
    if goal.kind == Goal.Kind.POSTS_PER_WEEK:
        return _posts(goal, location, start, end, now)
    complete_days = (today - start).days  # days of the month before today
    if complete_days <= 0:
        return None, None
    last = today - timedelta(days=1)
    days_in_period = (end - start).days + 1
    points = StatisticsPoint.objects.filter(location=location, profile_id=StatisticsPoint.ALL_ACCOUNTS,
                                            platform=goal.platform)
    if goal.kind == Goal.Kind.IMPRESSIONS:
        total = points.filter(metric="impressions", day__range=(start, last)).aggregate(s=Sum("value"))["s"]
        if total is None:
            return None, None
        return total, float(round(total / complete_days * days_in_period))
    if goal.kind == Goal.Kind.FOLLOWER_GROWTH:
        counts = _followers(location, goal.platform, start - timedelta(days=1), last)
        first = counts.get(start - timedelta(days=1), counts.get(start))
        latest_day = max(counts, default=None)
        if first is None or latest_day is None:
            return None, None
        gained = counts[latest_day] - first
        elapsed = max((latest_day - start).days + 1, 1)
        return gained, float(round(gained / elapsed * days_in_period))
    sums = points.filter(day__range=(start, last)).aggregate(
        engagement=Sum("value", filter=Q(metric__in=("likes", "comments", "shares"))),
        posts=Sum("value", filter=Q(metric="posts")))
    if not sums["posts"] or sums["engagement"] is None:
        return None, None
    ratio = round(sums["engagement"] / sums["posts"], 1)
    return ratio, ratio


def _followers(location: Location, platform: str, first: date, last: date) -> dict[date, float]:
    """{day: audience}: one platform's count, or (platform '') the sum of every platform's, since HighLevel
    reports followers per platform only."""
    rows = StatisticsPoint.objects.filter(location=location, profile_id=StatisticsPoint.ALL_ACCOUNTS,
                                          metric="followers", value__isnull=False, day__range=(first, last))
    if platform:
        return dict(rows.filter(platform=platform).values_list("day", "value"))
    summed = rows.exclude(platform="").values("day").annotate(total=Sum("value")).order_by()
    return {row["day"]: row["total"] for row in summed}


def _posts(goal: Goal, location: Location, start: date, end: date, now: datetime) -> tuple[float, float]:
    zone = ZoneInfo(location.timezone or "UTC") if location.timezone else ZoneInfo("UTC")
    first = datetime.combine(start, time.min, tzinfo=zone)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    posts = Post.objects.filter(location=location)
    if goal.platform:
        posts = posts.filter(platform=goal.platform)
    counts = posts.aggregate(
        published=Count("pk", filter=Q(status="published", published_at__gte=first, published_at__lt=after)),
        scheduled=Count("pk", filter=Q(status="scheduled", scheduled_at__gte=now, scheduled_at__lt=after)))
    return float(counts["published"]), float(counts["published"] + counts["scheduled"])


def goals_pacing(*, location_pks: list[int], now: datetime) -> dict[int, list[Pacing]]:
    """{location pk: [Pacing of each of its goals]}."""
    found: dict[int, list[Pacing]] = {}
    for goal in Goal.objects.filter(location_id__in=location_pks).select_related("location"):
        found.setdefault(goal.location_id, []).append(goal_pacing(goal, now=now))
    return found
