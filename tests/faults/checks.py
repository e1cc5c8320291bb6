"""What every fault case and the scale-out test check afterwards, as numbers: rows lost, duplicates, refresh
tokens lost, and whether the mirror equals the sandbox field by field."""

from __future__ import annotations

from django.db.models import Count

from integrations.highlevel.parsing import parse_datetime
from integrations.models import Event, Location, Tag, TagDetail


def mirror_differences(hl, location: Location) -> list[str]:
    """Every way the mirrored tags of `location` differ from the sandbox's truth (empty when equal)."""
    truth = {t["_id"]: t for t in hl.tags(location.location_id)}
    mirror = {t.tag_id: t for t in Tag.objects.filter(location=location)}
    problems = [f"missing {i}" for i in sorted(truth.keys() - mirror.keys())]
    problems += [f"extra {i}" for i in sorted(mirror.keys() - truth.keys()) if mirror[i].removed_at is None]
    for tag_id in truth.keys() & mirror.keys():
        raw, row = truth[tag_id], mirror[tag_id]
        expected = {
            "name": raw["tag"], "raw": raw, "deleted": bool(raw.get("deleted")),
            "removed": bool(raw.get("deleted")), "sort_name": raw["tag"].casefold(),
            "created_at": parse_datetime(raw["createdAt"], "createdAt"),
            "updated_at": parse_datetime(raw["updatedAt"], "updatedAt"),
        }
        actual = {
            "name": row.name, "raw": row.raw, "deleted": row.deleted, "removed": row.removed_at is not None,
            "sort_name": row.sort_name, "created_at": row.created_at, "updated_at": row.updated_at,
        }
        problems += [f"{tag_id}.{k}: {actual[k]!r} != {v!r}" for k, v in expected.items() if actual[k] != v]
    active = {i for i, t in truth.items() if not t.get("deleted")}
    detailed = set(TagDetail.objects.filter(tag__location=location).values_list("tag__tag_id", flat=True))
    problems += [f"no details for {i}" for i in sorted(active - detailed)]
    return problems


def rows_lost(hl, locations) -> int:
    """Tags the sandbox has that the mirror lacks, or has marked removed though they are not."""
    lost = 0
    for location in locations:
        truth = {t["_id"] for t in hl.tags(location.location_id) if not t.get("deleted")}
        kept = set(Tag.objects.filter(location=location, removed_at__isnull=True).values_list("tag_id", flat=True))
        lost += len(truth - kept)
    return lost


def duplicates() -> int:
    """Mirrored tags stored twice, plus tags whose creation or removal was announced more than once."""
    rows = Tag.objects.values("location_id", "tag_id").annotate(n=Count("id")).filter(n__gt=1).count()
    events = (Event.objects.filter(type__in=[Event.Type.TAG_CREATED, Event.Type.TAG_REMOVED])
              .values("type", "location_id", "subject_id").annotate(n=Count("id")).filter(n__gt=1).count())
    return rows + events
