"""Campaigns as reports see them: the tags of one name across locations, the name compared without case or
spaces ("Spring Sale" = "spring sale" = "SpringSale").

A small interface on purpose: issue 20's campaign selectors (tag performance) own campaigns in full; this
module is what reports ask, so it is the one place to switch over when those land."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Value
from django.db.models.functions import Replace

from integrations.models import Location, Tag


def campaign_key(name: str) -> str:
    return "".join(name.split()).casefold()


@dataclass(frozen=True)
class Campaign:
    key: str
    name: str  # the most common spelling
    tags: dict[int, list[str]]  # location pk -> HighLevel tag ids

    @property
    def location_pks(self) -> list[int]:
        return sorted(self.tags)


def campaign_for(key: str) -> Campaign | None:
    """The active tags whose name has this key, grouped by location; None when there are none."""
    key = campaign_key(key)
    if not key:
        return None
    rows = (Tag.objects.filter(removed_at__isnull=True)
            .annotate(key=Replace("sort_name", Value(" "), Value(""))).filter(key=key)
            .values_list("location_id", "tag_id", "name"))
    tags: dict[int, list[str]] = {}
    spellings: dict[str, int] = {}
    for location_pk, tag_id, name in rows:
        tags.setdefault(location_pk, []).append(tag_id)
        spellings[name] = spellings.get(name, 0) + 1
    if not tags:
        return None
    name = sorted(spellings.items(), key=lambda item: (-item[1], item[0]))[0][0]
    return Campaign(key=key, name=name, tags=tags)


def campaign_names(limit: int = 200) -> list[str]:
    """Tag names found in more than one location, for the report form's suggestions."""
    seen: dict[str, tuple[str, set[int]]] = {}
    for location_pk, name in Tag.objects.filter(removed_at__isnull=True).values_list("location_id", "name")[:50000]:
        key = campaign_key(name)
        seen.setdefault(key, (name, set()))[1].add(location_pk)
    shared = [name for name, where in seen.values() if len(where) > 1]
    return sorted(shared, key=str.casefold)[:limit]


def campaign_locations(campaign: Campaign) -> list[Location]:
    return list(Location.objects.filter(pk__in=campaign.location_pks).order_by("name", "pk"))
