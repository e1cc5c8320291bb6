"""Which locations a user may see, and what the overview says about each: tags, new tags, freshness, status.

Every role sees every mirrored location today; `locations_visible` is the one place to narrow that.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from dashboard.selectors.goals import attention_items, goals_pacing
from dashboard.selectors.operations import freshness
from integrations.models import Location, SyncRun, Tag

DEFAULT_EVERY_MINUTES = 60


def locations_visible(user: Any) -> QuerySet[Location]:
    return Location.objects.all()


def location_for(*, user: Any, location_id: str) -> Location:
    return get_object_or_404(locations_visible(user).select_related("connection"), location_id=location_id)


def location_freshness(location: Location, now: datetime | None = None) -> dict[str, Any]:
    """How stale the last good refresh is against the tags schedule of the location's connection."""
    every = location.connection.tags_every_minutes if location.connection else DEFAULT_EVERY_MINUTES
    return freshness(location.last_synced_at, every, now or timezone.now())


def live_runs(location_pks: list[int]) -> dict[int, int]:
    """{location pk: the newest queued or running top-level run id}."""
    rows = (SyncRun.objects.filter(location_id__in=location_pks, status__in=SyncRun.LIVE, parent__isnull=True)
            .order_by("location_id", "-id").values_list("location_id", "id"))
    found: dict[int, int] = {}
    for location_pk, run_id in rows:
        found.setdefault(location_pk, run_id)
    return found


def sync_status(location: Location, live_run: int | None) -> str:
    if live_run:
        return "running"
    return location.last_sync_status or "never"


def locations_with_counts(*, user: Any, q: str = "", now: datetime | None = None) -> list[Location]:
    """Visible locations with `tag_count` (active) and `new_tag_count`, `live_run`, `status`, `fresh`,
    `attention` (open "needs attention" items) and `pacing` (goals) set; those needing attention first (most
    items first), then by name."""
    ordered = OverviewRows(user=user, q=q, now=now)
    return ordered[0:len(ordered)]


class OverviewRows:
    """The overview's rows in their order (those needing attention first, most items first, then by name),
    detailed a slice at a time: `rows[a:b]` are the locations of that slice with everything
    `locations_with_counts` sets. Only the order reads every visible location (their ids by name and the
    open attention alerts); the rows themselves, tag counts, runs, freshness and goal pacing are read for the
    slice's locations only, so a page of the overview costs the same at 20 or 200 locations. `count()` and
    `len()` for the pager."""

    def __init__(self, *, user: Any, q: str = "", now: datetime | None = None):
        self.now = now or timezone.now()
        self.rows = locations_visible(user)
        if q:
            self.rows = self.rows.filter(Q(name__icontains=q) | Q(location_id__icontains=q))
        self.order = list(self.rows.order_by("name", "pk").values_list("pk", flat=True))
        self.attention = attention_items(location_pks=self.order)
        self.order.sort(key=lambda pk: -len(self.attention.get(pk, [])))  # stable: by name within

    def __len__(self) -> int:
        return len(self.order)

    def count(self) -> int:
        return len(self.order)

    def __getitem__(self, window: slice) -> list[Location]:
        pks = self.order[window]
        found = {loc.pk: loc for loc in self.rows.select_related("connection").filter(pk__in=pks)} if pks else {}
        locations = [found[pk] for pk in pks if pk in found]  # one deleted meanwhile is left out
        _details(locations, self.attention, self.now)
        return locations


def _details(locations: list[Location], attention: dict[int, list], now: datetime) -> None:
    pks = [loc.pk for loc in locations]
    if not pks:
        return
    # Active tags as the sync stored them (integrations/tag_counts.py): counting 400,000 tags of an agency on
    # every view grew with the agency. A location never synced has none stored and is counted live, like the
    # new tags: one grouped count on the (location, removed_at, first_seen_at) index.
    active = {loc.pk: loc.tag_count_active for loc in locations if loc.tag_count_active is not None}
    if uncounted := [pk for pk in pks if pk not in active]:
        active |= _counts(Tag.objects.filter(location_id__in=uncounted, removed_at__isnull=True))
    new = _counts(Tag.objects.new(now).filter(location_id__in=pks))
    live = live_runs(pks)
    pacing = goals_pacing(location_pks=pks, now=now)
    for location in locations:
        location.attention = attention.get(location.pk, [])
        location.pacing = pacing.get(location.pk, [])
        location.tag_count, location.new_tag_count = active.get(location.pk, 0), new.get(location.pk, 0)
        location.live_run = live.get(location.pk)
        location.status = sync_status(location, location.live_run)
        location.fresh = location_freshness(location, now)


def _counts(tags: QuerySet[Tag]) -> dict[int, int]:
    return dict(tags.values("location_id").annotate(n=Count("id")).order_by().values_list("location_id", "n"))


def location_as_dict(location: Location) -> dict[str, Any]:
    """A location as the API answers it (from `locations_with_counts`)."""
    return {
        "id": location.location_id, "name": location.name,
        "connection_id": location.connection_id, "tag_count": location.tag_count,
        "new_tag_count": location.new_tag_count,
        "last_synced_at": location.last_synced_at.isoformat() if location.last_synced_at else None,
        "sync_status": location.status,
        "needs_attention": [{"kind": i.kind, "reason": i.reason, "since": i.since.isoformat()}
                            for i in location.attention],
        "goals": [p.as_dict() for p in location.pacing],
    }
