"""Goals and their pacing, and the "needs attention" items, as pages, the API and reports show them.

`goals_pacing(location_pks=[...])` is the selector reports reuse: keyword-only, one call for many locations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from integrations.alerts.attention import KINDS
from integrations.attention.goals import Pacing
from integrations.attention.goals import goals_pacing as _goals_pacing
from integrations.models import Alert

# How a "needs attention" item reads on a badge.
ATTENTION_LABELS = {
    "account.expired": "Account expired", "account.expiring": "Account expiring", "post.failed": "Post failed",
    "schedule.empty": "Schedule empty", "statistics.anomaly": "Anomaly", "goal.off_track": "Goal off track",
}
STATE_ORDER = {"off_track": 0, "at_risk": 1, "no_data": 2, "on_track": 3}


def goals_pacing(*, location_pks: Iterable[int], now: datetime | None = None) -> dict[int, list[Pacing]]:
    """{location pk: [Pacing]} for every goal of those locations, worst state first. A Pacing carries
    `goal` (kind, platform, target), `period_start`, `period_end`, `done`, `projection`, `percent`, `state`
    ("on_track", "at_risk", "off_track", "no_data") with `state_label`, and `as_dict()` for JSON."""
    found = _goals_pacing(location_pks=list(location_pks), now=now or timezone.now())
    return {pk: sorted(items, key=lambda p: (STATE_ORDER[p.state], p.goal.kind, p.goal.platform))
            for pk, items in found.items()}


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
