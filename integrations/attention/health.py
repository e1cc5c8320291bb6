"""Findings about a location's health, read from the mirror: expired or expiring social accounts, posts that
failed lately, an empty schedule, statistics anomalies. Each answers plain rows; alerts/attention.py turns
them into alert conditions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery

from integrations.attention.detector import WINDOW_DAYS, Finding, detect
from integrations.models import (
    AnomalyCheck,
    AnomalyMute,
    AnomalyThreshold,
    Goal,
    Location,
    Post,
    SocialAccount,
    StatisticsPoint,
    SyncRun,
)

WATCHED_METRICS = ("impressions", "reach", "engagement", "followers")
ENGAGEMENT_PARTS = ("likes", "comments", "shares")


def watched_locations() -> list[Location]:
    return list(Location.objects.filter(is_installed=True).order_by("pk"))


def accounts_expired() -> list[SocialAccount]:
    return list(SocialAccount.objects.filter(expired=True, removed_at__isnull=True, location__is_installed=True)
                .select_related("location").order_by("pk"))


def accounts_expiring(now: datetime) -> list[SocialAccount]:
    soon = now + timedelta(days=settings.ACCOUNT_EXPIRY_WARNING_DAYS)
    return list(SocialAccount.objects.filter(expired=False, removed_at__isnull=True, location__is_installed=True,
                                             expires_at__lte=soon).select_related("location").order_by("pk"))


def posts_failed(now: datetime) -> list[Post]:
    """Failed posts whose date (scheduled, else shown, else last updated) lies within the lookback."""
    since = now - timedelta(hours=settings.POST_FAILED_LOOKBACK_HOURS)
    recent = (Q(scheduled_at__gte=since, scheduled_at__lte=now)
              | Q(scheduled_at__isnull=True, display_date__gte=since, display_date__lte=now)
              | Q(scheduled_at__isnull=True, display_date__isnull=True, updated_at__gte=since))
    return list(Post.objects.filter(recent, status="failed", location__is_installed=True)
                .select_related("location").order_by("pk"))


def schedules_empty(now: datetime) -> list[tuple[Location, Goal]]:
    """Locations with a posting goal and nothing scheduled in the next SCHEDULE_AHEAD_DAYS, with that goal.
    Only locations whose posts were listed at least once (posts_covered_from) are judged."""
    goals = {g.location_id: g for g in Goal.objects.filter(kind=Goal.Kind.POSTS_PER_WEEK, target__gt=0,
                                                           location__is_installed=True,
                                                           location__posts_covered_from__isnull=False)
             .select_related("location").order_by("-target")}
    if not goals:
        return []
    ahead = now + timedelta(days=settings.SCHEDULE_AHEAD_DAYS)
    busy = set(Post.objects.filter(location_id__in=list(goals), status="scheduled", scheduled_at__gt=now,
                                   scheduled_at__lte=ahead).values_list("location_id", flat=True).distinct())
    return [(g.location, g) for pk, g in sorted(goals.items()) if pk not in busy]


@dataclass(frozen=True)
class Anomaly:
    location: Location
    platform: str
    metric: str
    finding: Finding
    threshold: float


def judged_day(location: Location, now: datetime) -> date | None:
    """The day the detector may judge: yesterday (UTC, the statistics' days), once a statistics refresh that
    started after it ended has succeeded with no problem, and the newest finished one had none. A half-synced
    day, or a refresh that failed or had problems, is not judged (None)."""
    return _judged(newest_statistics_runs([location.pk]).get(location.pk), now)


def newest_statistics_runs(location_pks: list[int]) -> dict[int, dict]:
    """{location pk: its newest finished statistics run (pk, status, problems, started_at)}: two queries for
    any number of locations."""
    runs = SyncRun.objects.filter(kind=SyncRun.Kind.STATISTICS, finished_at__isnull=False,
                                  status__in=(SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED))
    newest = (Location.objects.filter(pk__in=location_pks)
              .annotate(run=Subquery(runs.filter(location=OuterRef("pk")).order_by("-finished_at", "-pk")
                                     .values("pk")[:1])).values_list("run", flat=True))
    rows = SyncRun.objects.filter(pk__in=[pk for pk in newest if pk]).values(
        "pk", "location_id", "status", "problems", "started_at")
    return {row["location_id"]: row for row in rows}


def _judged(newest: dict | None, now: datetime) -> date | None:
    day = now.date() - timedelta(days=1)
    if newest is None or newest["status"] != SyncRun.Status.SUCCEEDED or newest["problems"]:
        return None
    day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
    if newest["started_at"] is None or newest["started_at"] < day_end:
        return None
    return day


def threshold_for(location: Location, thresholds: dict[int | None, float]) -> float:
    return thresholds.get(location.pk, thresholds.get(None, settings.ANOMALY_THRESHOLD))


def _series(location: Location, metrics: list[str], day: date) -> dict[tuple[str, str], dict[date, float | None]]:
    """{(platform, metric): {day: value}} of the judged day and its window, all accounts together; engagement
    is likes + comments + shares (whichever are reported), as the statistics pages count it."""
    asked = [m for m in metrics if m != "engagement"] + (list(ENGAGEMENT_PARTS) if "engagement" in metrics else [])
    rows = StatisticsPoint.objects.filter(
        location=location, profile_id=StatisticsPoint.ALL_ACCOUNTS, metric__in=asked,
        day__gte=day - timedelta(days=WINDOW_DAYS + 1), day__lte=day,
    ).values_list("platform", "metric", "day", "value")
    series: dict[tuple[str, str], dict[date, float | None]] = {}
    for platform, metric, point_day, value in rows:
        if metric in ENGAGEMENT_PARTS and "engagement" in metrics:
            days = series.setdefault((platform, "engagement"), {})
            if value is not None:
                days[point_day] = (days.get(point_day) or 0.0) + value
            else:
                days.setdefault(point_day, None)
        if metric in metrics:
            series.setdefault((platform, metric), {})[point_day] = value
    return series


def anomalies(now: datetime) -> tuple[list[Anomaly], set[int]]:
    """(anomalies on each location's judged day, pks of locations that could not be judged now).

    Runs every minute: a location whose inputs (judged day, newest statistics run, threshold, watched
    metrics) are those of its last check answers that check's findings, stored in AnomalyCheck, without
    reading its points again. Only locations with a new statistics run, a new day or new settings are read."""
    found: list[Anomaly] = []
    unjudged: set[int] = set()
    thresholds = dict(AnomalyThreshold.objects.values_list("location_id", "threshold"))
    muted = set(AnomalyMute.objects.values_list("location_id", "metric"))
    min_change = settings.ANOMALY_MIN_CHANGE_PCT / 100
    locations = watched_locations()
    newest = newest_statistics_runs([loc.pk for loc in locations])
    checks = {c.location_id: c for c in AnomalyCheck.objects.filter(location_id__in=list(newest))}
    fresh = []
    for location in locations:
        day = _judged(newest.get(location.pk), now)
        if day is None:
            unjudged.add(location.pk)
            continue
        metrics = [m for m in WATCHED_METRICS if (location.pk, m) not in muted]
        threshold = threshold_for(location, thresholds)
        inputs = f"{day}|{newest[location.pk]['pk']}|{threshold}|{min_change}|{','.join(metrics)}"
        check = checks.get(location.pk)
        if check is None or check.inputs != inputs:
            findings = _findings(location, metrics, day, threshold, min_change)
            check = AnomalyCheck(location=location, inputs=inputs, findings=findings, checked_at=now)
            fresh.append(check)
        found.extend(Anomaly(location=location, platform=f["platform"], metric=f["metric"], threshold=threshold,
                             finding=Finding(day=date.fromisoformat(f["day"]), actual=f["actual"],
                                             expected=f["expected"], low=f["low"], high=f["high"],
                                             direction=f["direction"]))
                     for f in check.findings)
    if fresh:
        AnomalyCheck.objects.bulk_create(fresh, update_conflicts=True, unique_fields=["location"],
                                         update_fields=["inputs", "findings", "checked_at"])
    return found, unjudged


def _findings(location: Location, metrics: list[str], day: date, threshold: float,
              min_change: float) -> list[dict]:
    """The location's anomalies on `day`, as AnomalyCheck stores them."""
    if not metrics:
        return []
    found = []
    for (platform, metric), values in sorted(_series(location, metrics, day).items()):
        finding = detect(values, day, threshold=threshold, min_change=min_change, running_count=metric == "followers")
        if finding is not None:
            found.append({"platform": platform, "metric": metric, "day": finding.day.isoformat(),
                          "actual": finding.actual, "expected": finding.expected, "low": finding.low,
                          "high": finding.high, "direction": finding.direction})
    return found
