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
from django.db.models import Count, Min, Q, Sum

from integrations.models import Goal, Location, LocationMonth, Post, StatisticsPoint

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
    # When it changes with nothing written: the first scheduled post it counts as ahead falls due (posts per
    # week; None when it counts none). The dashboard keeps pacings until then (dashboard/selectors/goals.py).
    changes_at: datetime | None = None

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


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _zone(location: Location) -> ZoneInfo:
    return zone_of(location.timezone)


def local_today(timezone_name: str, now: datetime) -> date:
    """The day it is at `now` in the time zone named (UTC for an unknown name): what periods start from."""
    return now.astimezone(zone_of(timezone_name)).date()


def _today(location: Location, now: datetime) -> date:
    return local_today(location.timezone, now)


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
    return _pacings([goal], now)[0]


def goals_pacing(*, location_pks: list[int], now: datetime) -> dict[int, list[Pacing]]:
    """{location pk: [Pacing of each of its goals]}: a fixed number of queries however many goals (one for
    the goals, one for the week's posts, two per distinct month, which is one or two as time zones go)."""
    found: dict[int, list[Pacing]] = {}
    goals = list(Goal.objects.filter(location_id__in=location_pks).select_related("location"))
    for pacing in _pacings(goals, now):
        found.setdefault(pacing.goal.location_id, []).append(pacing)
    return found


@dataclass(frozen=True)
class _Plan:
    goal: Goal
    today: date
    start: date
    end: date

    @property
    def last(self) -> date:  # the last complete day
        return self.today - timedelta(days=1)


def _pacings(goals: list[Goal], now: datetime) -> list[Pacing]:
    plans = []
    for goal in goals:
        today = _today(goal.location, now)
        plans.append(_Plan(goal, today, *period_of(goal.kind, today)))
    facts = _Facts(plans, now)
    pacings = []
    for plan in plans:
        done, projection = facts.measure(plan)
        changes_at = facts.soonest.get(plan.goal.location_id) if plan.goal.kind == Goal.Kind.POSTS_PER_WEEK else None
        pacings.append(Pacing(goal=plan.goal, period_start=plan.start, period_end=plan.end, done=done,
                              projection=projection, state=state_for(projection, plan.goal.target),
                              changes_at=changes_at))
    return pacings


SUMMED = ("impressions", "likes", "comments", "shares", "posts")
ENGAGEMENT_PARTS = ("likes", "comments", "shares")


class _Facts:
    """Everything the goals' measures read, fetched at once and summed by the database: the week's posts
    counted per (location, platform, status), and per month the sums of the summed metrics per (location,
    platform, metric) and the follower counts of the days that matter. Months come from the locations'
    monthly rollup (LocationMonth) less the days after each location's last complete day, so a month's
    pacing reads a few rows per location whatever day of the month it is."""

    def __init__(self, plans: list[_Plan], now: datetime):
        self.now = now
        weeks = [p for p in plans if p.goal.kind == Goal.Kind.POSTS_PER_WEEK]
        months: dict[date, list[_Plan]] = {}
        for plan in plans:
            if plan.goal.kind != Goal.Kind.POSTS_PER_WEEK and plan.today > plan.start:
                months.setdefault(plan.start, []).append(plan)
        self.soonest: dict[int, datetime] = {}  # location pk: its first scheduled post counted as ahead
        self.posts = self._posts(weeks)
        self.sums: dict[tuple[date, int, str, str], float | None] = {}
        self.followers: dict[tuple[date, int], list[tuple[str, date, float]]] = {}
        for start, month in months.items():
            self._month(start, month)

    def _posts(self, weeks: list[_Plan]) -> dict[int, list[tuple[str, str, int]]]:
        """{location pk: [(platform, "published" or "scheduled", posts)]} of each location's week: published so
        far, scheduled from now to the week's end. One grouped count (an OR per distinct week, as time zones
        make them)."""
        by_bounds: dict[tuple[datetime, datetime], set[int]] = {}
        for plan in weeks:
            by_bounds.setdefault(_week_bounds(plan), set()).add(plan.goal.location_id)
        wanted = Q()
        for (first, after), location_pks in sorted(by_bounds.items()):
            # Flat terms, each answered by one index: (location, published_at), and the scheduled posts' own.
            wanted |= Q(location_id__in=sorted(location_pks), status="published", published_at__gte=first,
                        published_at__lt=after)
            wanted |= Q(location_id__in=sorted(location_pks), status="scheduled", scheduled_at__gte=self.now,
                        scheduled_at__lt=after)
        if not by_bounds:
            return {}
        rows = (Post.objects.filter(wanted).values_list("location_id", "platform", "status")
                .annotate(n=Count("id"), first=Min("scheduled_at")).order_by())
        found: dict[int, list[tuple[str, str, int]]] = {}
        for location_pk, platform, status, n, first in rows:
            found.setdefault(location_pk, []).append((platform, status, n))
            if status == "scheduled" and first is not None:
                self.soonest[location_pk] = min(first, self.soonest.get(location_pk, first))
        return found

    def _month(self, start: date, plans: list[_Plan]) -> None:
        """The month that starts on `start`, up to each location's last complete day (time zones make it
        differ): the month's rollup less the days after it, and the follower counts of the day before the
        month, its first day and the last two complete days (all days only for a location with none there)."""
        month_end = period_of(Goal.Kind.IMPRESSIONS, start)[1]
        points = StatisticsPoint.objects.filter(profile_id=StatisticsPoint.ALL_ACCOUNTS)
        summed = [p for p in plans if p.goal.kind != Goal.Kind.FOLLOWER_GROWTH]
        if summed:
            sums: dict[tuple, list] = {}
            for location_pk, platform, metric, total, reported, count in (
                    LocationMonth.objects.filter(month=start, metric__in=SUMMED,
                                                 location_id__in=sorted({p.goal.location_id for p in summed}))
                    .values_list("location_id", "platform", "metric", "total", "reported", "points")):
                sums[(location_pk, platform, metric)] = [total, reported, count]
            after = _by_last(summed, lambda last: Q(day__gt=last, day__lte=month_end))
            for location_pk, platform, metric, total, reported, count in (
                    points.filter(after, metric__in=SUMMED).values_list("location_id", "platform", "metric")
                    .annotate(total=Sum("value"), reported=Count("value"), n=Count("id")).order_by()):
                kept = sums.setdefault((location_pk, platform, metric), [0.0, 0, 0])
                kept[0] -= total or 0.0
                kept[1] -= reported
                kept[2] -= count
            for (location_pk, platform, metric), (total, reported, count) in sums.items():
                if count > 0:  # a series with a row up to the last complete day, as SUM() over them answers
                    self.sums[(start, location_pk, platform, metric)] = round(total, 6) if reported else None
        counted = [p for p in plans if p.goal.kind == Goal.Kind.FOLLOWER_GROWTH]
        if counted:
            followers = points.filter(metric="followers", value__isnull=False)

            def days(last: date) -> Q:
                return Q(day__in=sorted({start - timedelta(days=1), start, max(start, last - timedelta(days=1)),
                                         last}))

            found = self._followers(start, followers.filter(_by_last(counted, days)))
            lacking = [p for p in counted if not any(
                day >= p.last - timedelta(days=1) for _, day, _ in found.get(p.goal.location_id, []))]
            if lacking:  # no count on the last two complete days: the latest count may be any day before
                for plan in lacking:
                    self.followers.pop((start, plan.goal.location_id), None)
                self._followers(start, followers.filter(
                    _by_last(lacking, lambda last: Q(day__gte=start - timedelta(days=1), day__lte=last))))

    def _followers(self, start: date, rows) -> dict[int, list[tuple[str, date, float]]]:
        found: dict[int, list[tuple[str, date, float]]] = {}
        for location_pk, platform, day, value in rows.values_list("location_id", "platform", "day", "value"):
            self.followers.setdefault((start, location_pk), []).append((platform, day, value))
            found.setdefault(location_pk, []).append((platform, day, value))
        return found

    def measure(self, plan: _Plan) -> tuple[float | None, float | None]:
        goal = plan.goal
        if goal.kind == Goal.Kind.POSTS_PER_WEEK:
            return self._week(plan)
        complete_days = (plan.today - plan.start).days  # days of the month before today
        if complete_days <= 0:
            return None, None
        days_in_period = (plan.end - plan.start).days + 1
        if goal.kind == Goal.Kind.FOLLOWER_GROWTH:
            counts = self._follower_counts(plan)
            first = counts.get(plan.start - timedelta(days=1), counts.get(plan.start))
            latest_day = max(counts, default=None)
            if first is None or latest_day is None:
                return None, None
            gained = counts[latest_day] - first
            elapsed = max((latest_day - plan.start).days + 1, 1)
            return gained, float(round(gained / elapsed * days_in_period))
        def total(metric: str) -> float | None:
            return self.sums.get((plan.start, goal.location_id, goal.platform, metric))

        if goal.kind == Goal.Kind.IMPRESSIONS:
            impressions = total("impressions")
            if impressions is None:
                return None, None
            return impressions, float(round(impressions / complete_days * days_in_period))
        parts = [v for v in map(total, ENGAGEMENT_PARTS) if v is not None]
        posts = total("posts")
        if not posts or not parts:
            return None, None
        ratio = round(sum(parts) / posts, 1)
        return ratio, ratio

    def _follower_counts(self, plan: _Plan) -> dict[date, float]:
        """{day: audience}: one platform's count, or (platform '') the sum of every platform's, since
        HighLevel reports followers per platform only."""
        counts: dict[date, float] = {}
        for platform, day, value in self.followers.get((plan.start, plan.goal.location_id), []):
            if plan.goal.platform:
                if platform == plan.goal.platform:
                    counts[day] = value
            elif platform:
                counts[day] = counts.get(day, 0.0) + value
        return counts

    def _week(self, plan: _Plan) -> tuple[float, float]:
        published = scheduled = 0
        for platform, status, n in self.posts.get(plan.goal.location_id, []):
            if plan.goal.platform and platform != plan.goal.platform:
                continue
            if status == "published":
                published += n
            else:
                scheduled += n
        return float(published), float(published + scheduled)


def _by_last(plans: list[_Plan], days) -> Q:
    """An OR of each distinct last complete day's locations with `days(last)`, the condition on their days."""
    by_last: dict[date, set[int]] = {}
    for plan in plans:
        by_last.setdefault(plan.last, set()).add(plan.goal.location_id)
    wanted = Q()
    for last, location_pks in sorted(by_last.items()):
        wanted |= Q(location_id__in=sorted(location_pks)) & days(last)
    return wanted


def _week_bounds(plan: _Plan) -> tuple[datetime, datetime]:
    zone = _zone(plan.goal.location)
    return (datetime.combine(plan.start, time.min, tzinfo=zone),
            datetime.combine(plan.end + timedelta(days=1), time.min, tzinfo=zone))
