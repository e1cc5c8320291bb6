"""A location's tag counts (active, removed), stored on the location by the sync after its tag writes.

Counted, not summed from deltas: one index read per refresh (~0.1 s at 1,000,000 tags) cannot drift, and a
rerun stores nothing when nothing changed (an unchanged refresh writes 0 rows). The tag list reads them
instead of counting per request; where they are null (never synced) it counts live.
"""

from __future__ import annotations

from django.db.models import Count, Q

from integrations.models import Location, Tag


def tag_counts(location: Location) -> tuple[int, int]:
    """(active, removed), counted now."""
    counts = Tag.objects.filter(location=location).order_by().aggregate(
        every=Count("pk"), active=Count("pk", filter=Q(removed_at__isnull=True)))
    return counts["active"], counts["every"] - counts["active"]


def tag_counts_store(location: Location) -> int:
    """Count the location's tags and store the counts when they differ; the rows written (0 or 1)."""
    active, removed = tag_counts(location)
    if (location.tag_count_active, location.tag_count_removed) == (active, removed):
        return 0
    location.tag_count_active, location.tag_count_removed = active, removed
    return Location.objects.filter(pk=location.pk).update(tag_count_active=active, tag_count_removed=removed)
