"""Goals and their pacing, and the "needs attention" items, as pages, the API and reports show them.

`goals_pacing(location_pks=[...])` is the selector reports reuse: keyword-only, one call for many locations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone

from dashboard.selectors.performance_memo import PARTS
from integrations.alerts.attention import KINDS
from integrations.attention.goals import Pacing, local_today
from integrations.attention.goals import goals_pacing as _goals_pacing
from integrations.models import Alert, Goal

# How a "needs attention" item reads on a badge.
ATTENTION_LABELS = {
    "account.expired": "Account expired", "account.expiring": "Account expiring", "post.failed": "Post failed",
    "schedule.empty": "Schedule empty", "statistics.anomaly": "Anomaly", "goal.off_track": "Goal off track",
}
STATE_ORDER = {"off_track": 0, "at_risk": 1, "no_data": 2, "on_track": 3}


def goals_pacing(*, location_pks: Iterable[int], now: datetime | None = None) -> dict[int, list[Pacing]]:
    """{location pk: [Pacing]} for every goal of those locations, worst state first. A Pacing carries
    `goal` (kind, platform, target), `period_start`, `period_end`, `done`, `projection`, `percent`, `state`
    ("on_track", "at_risk", "off_track", "no_data") with `state_label`, and `as_dict()` for JSON.

    Each location's pacings are kept per process (performance_memo.py) by its goals, its day, its data
    versions (posts, statistics) and the time they were computed, until its first scheduled post counted as
    ahead falls due (`Pacing.changes_at`): then they change with nothing written. One query when all are kept
    (the goals with their locations' versions); the pacing's queries for the others."""
    now = now or timezone.now()
    asked: dict[int, list] = {}
    for location_pk, *goal, zone, tags, statistics in (
            Goal.objects.filter(location_id__in=list(location_pks)).order_by("location_id", "pk").values_list(
                "location_id", "pk", "kind", "platform", "target", "location__timezone", "location__tags_version",
                "location__statistics_version")):
        asked.setdefault(location_pk, [local_today(zone, now), zone, tags, statistics]).append(tuple(goal))
    found: dict[int, list[Pacing]] = {}
    for location_pk, key in asked.items():
        kept = PARTS.get(("pacing", location_pk, *key))
        if kept is not None and kept.since <= now < kept.until:
            found[location_pk] = kept.pacings
    if missing := [pk for pk in asked if pk not in found]:
        for location_pk, items in _goals_pacing(location_pks=missing, now=now).items():
            found[location_pk] = sorted(items, key=lambda p: (STATE_ORDER[p.state], p.goal.kind, p.goal.platform))
            until = min((p.changes_at for p in items if p.changes_at is not None), default=datetime.max.replace(
                tzinfo=UTC))
            PARTS.put(("pacing", location_pk, *asked[location_pk]), _KeptPacing(now, until, found[location_pk]))
    return found


@dataclass(frozen=True)
class _KeptPacing:
    since: datetime  # computed at: a caller asking about an earlier time computes afresh
    until: datetime
    pacings: list[Pacing]


@dataclass(frozen=True)
class AttentionItem:
    kind: str
    label: str
    reason: str
    since: datetime
    alert_id: int


def attention_items(*, location_pks: Iterable[int]) -> dict[int, list[AttentionItem]]:
    """{location pk: the open "needs attention" items}, oldest first: the active goals-and-health alerts."""
    rows = (Alert.objects.filter(kind__in=KINDS, state__in=Alert.ACTIVE, location_id__in=list(location_pks))
            .order_by("first_seen_at", "pk").values("pk", "kind", "location_id", "context", "title", "first_seen_at"))
    found: dict[int, list[AttentionItem]] = {}
    for row in rows:
        reason = (row["context"] or {}).get("reason") or row["title"]
        found.setdefault(row["location_id"], []).append(AttentionItem(
            kind=row["kind"], label=ATTENTION_LABELS.get(row["kind"], row["kind"]), reason=reason,
            since=row["first_seen_at"], alert_id=row["pk"]))
    return found
