"""Goals and health as alert conditions: each finding of integrations/attention/ is one condition whose key
names it, so the engine raises it once (one Alert, one mail to the admins, one typed event carrying the
payload below), keeps it open while it holds, and resolves it when it clears. An open alert of these kinds is
a location's "needs attention" item on the overview.

Kinds and keys (HighLevel's ids):
- `account.expired` `account.expired:<locationId>:<accountId>`; `account.expiring` `account.expiring:...`;
- `post.failed` `post.failed:<locationId>:<postId>` (failed within POST_FAILED_LOOKBACK_HOURS);
- `schedule.empty` `schedule.empty:<locationId>` (a posting goal, nothing scheduled ahead);
- `statistics.anomaly` `statistics.anomaly:<locationId>:<platform or all>:<metric>`: yesterday's number outside
  its expected range; a location whose day cannot be judged (partial day, refresh with problems) keeps its
  anomalies as they are, neither raised nor cleared;
- `goal.off_track` `goal.off_track:<locationId>:<goal pk>`: raised when a goal's pacing turns off track, kept
  while it is at risk, and resolved with a `goal.on_track` event once it is on track again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.alerts.conditions import WARNING, Condition
from integrations.attention import goals as goal_pacing
from integrations.attention import health
from integrations.models import Alert, Event, Location

KINDS = ("account.expired", "account.expiring", "post.failed", "schedule.empty", "statistics.anomaly",
         "goal.off_track")
# An alert of this kind that resolves raises this event (its payload: the raise's, with the state now).
RESOLVED_EVENTS = {"goal.off_track": Event.Type.GOAL_ON_TRACK}


def _base(location: Location, now: datetime) -> dict[str, Any]:
    return {"location_id": location.location_id, "location_name": location.name, "observed_at": now.isoformat()}


def _condition(kind: str, key: str, location: Location, title: str, detail: str, payload: dict[str, Any],
               severity: str = WARNING) -> Condition:
    return Condition(kind=kind, key=key, title=f"{location.name}: {title}", detail=detail, severity=severity,
                     connection_id=location.connection_id, location_id=location.pk, event_type=kind,
                     context={"event": payload, "reason": title})


def _account(kind: str, account, now: datetime, title: str) -> Condition:
    location = account.location
    payload = {**_base(location, now), "account_id": account.account_id, "profile_id": account.profile_id,
               "platform": account.platform, "account_name": account.name,
               "expire": account.expires_at.isoformat() if account.expires_at else None,
               "is_expired": account.expired}
    return _condition(kind, f"{kind}:{location.location_id}:{account.account_id}", location, title,
                      "Reconnect the account in HighLevel's Social Planner, or its posts stop going out.", payload)


def accounts_expired(now: datetime) -> list[Condition]:
    return [_account("account.expired", a, now, f"{a.platform} account {a.name} expired")
            for a in health.accounts_expired()]


def accounts_expiring(now: datetime) -> list[Condition]:
    def days(a) -> int:
        return max(0, (a.expires_at - now).days)
    return [_account("account.expiring", a, now, f"{a.platform} account {a.name} expires in {days(a)} days")
            for a in health.accounts_expiring(now)]


def posts_failed(now: datetime) -> list[Condition]:
    found = []
    for post in health.posts_failed(now):
        location = post.location
        when = post.scheduled_at or post.display_date or post.updated_at
        payload = {**_base(location, now), "post_id": post.post_id, "account_id": post.account_id,
                   "platform": post.platform, "error": post.error, "status": post.status,
                   "scheduled_at": when.isoformat() if when else None, "summary": post.summary[:200]}
        found.append(_condition("post.failed", f"post.failed:{location.location_id}:{post.post_id}", location,
                                f"post failed on {post.platform_label}", post.error or "HighLevel gave no reason.",
                                payload))
    return found


def schedules_empty(now: datetime) -> list[Condition]:
    found = []
    for location, goal in health.schedules_empty(now):
        payload = {**_base(location, now), "goal_id": goal.pk, "posts_per_week": goal.target,
                   "platform": goal.platform, "days_ahead": health.settings.SCHEDULE_AHEAD_DAYS}
        found.append(_condition(
            "schedule.empty", f"schedule.empty:{location.location_id}", location,
            f"nothing scheduled in the next {health.settings.SCHEDULE_AHEAD_DAYS} days",
            f"Its goal expects {goal.target:g} posts a week.", payload))
    return found


def statistics_anomalies(now: datetime) -> list[Condition]:
    found_anomalies, unjudged = health.anomalies(now)
    found = []
    for a in found_anomalies:
        f, location, scope = a.finding, a.location, a.platform or "all"
        payload = {**_base(location, now), "platform": a.platform or None, "metric": a.metric,
                   "day": f.day.isoformat(), "actual": f.actual, "expected": f.expected,
                   "expected_range": {"low": f.low, "high": f.high}, "direction": f.direction,
                   "change_pct": f.change_pct, "threshold": a.threshold}
        where = f"{a.platform} " if a.platform else ""
        found.append(_condition(
            "statistics.anomaly", f"statistics.anomaly:{location.location_id}:{scope}:{a.metric}", location,
            f"{where}{a.metric} {f.direction} on {f.day:%d %b}",
            f"{a.metric} was {f.actual:,.0f} against an expected {f.expected:,.0f} "
            f"(range {f.low:,.0f} to {f.high:,.0f}).", payload))
    return found + _held("statistics.anomaly", unjudged)


def _held(kind: str, location_pks: set[int]) -> list[Condition]:
    """The open alerts of locations that cannot be judged now, as they are: neither raised nor cleared."""
    if not location_pks:
        return []
    return [Condition(kind=a.kind, key=a.dedupe_key, title=a.title, detail=a.detail, severity=a.severity,
                      connection_id=a.connection_id, location_id=a.location_id, context=a.context)
            for a in Alert.objects.filter(kind=kind, state__in=Alert.ACTIVE, location_id__in=location_pks)]


def goals_off_track(now: datetime) -> list[Condition]:
    open_keys = set(Alert.objects.filter(kind="goal.off_track", state__in=Alert.ACTIVE)
                    .values_list("dedupe_key", flat=True))
    locations = [loc.pk for loc in health.watched_locations()]
    found = []
    for pacings in goal_pacing.goals_pacing(location_pks=locations, now=now).values():
        for p in pacings:
            location = p.goal.location
            key = f"goal.off_track:{location.location_id}:{p.goal.pk}"
            if not (p.state == goal_pacing.OFF_TRACK or (p.state == goal_pacing.AT_RISK and key in open_keys)):
                continue
            payload = {**_base(location, now), **p.as_dict()}
            found.append(_condition(
                "goal.off_track", key, location, f"{p.goal.get_kind_display().lower()} off track",
                f"Target {p.goal.target:g}{' on ' + p.goal.platform if p.goal.platform else ''}; "
                f"so far {p.done or 0:,.1f}, heading for {p.projection or 0:,.1f} by {p.period_end:%d %b}.",
                payload))
    return found


ATTENTION_CHECKS = {
    "account.expired": accounts_expired,
    "account.expiring": accounts_expiring,
    "post.failed": posts_failed,
    "schedule.empty": schedules_empty,
    "statistics.anomaly": statistics_anomalies,
    "goal.off_track": goals_off_track,
}

ATTENTION_NOTES = {
    "account.expired": "The account was reconnected (or removed) in HighLevel.",
    "account.expiring": "The account was renewed, expired (see account.expired) or removed.",
    "post.failed": "The post went out, was deleted, or the failure is older than the lookback.",
    "schedule.empty": "Posts are scheduled again (or the posting goal was removed).",
    "statistics.anomaly": "The latest complete day is back within its expected range (or the metric was muted).",
    "goal.off_track": "The goal is on track again (or was removed).",
}
