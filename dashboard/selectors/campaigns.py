"""Campaigns: tags of one name across locations, compared case- and space-insensitively ("Summer Sale",
"summer sale" and "SummerSale" are one campaign), plus the aliases an admin merged into another campaign.

A campaign's slug is its key: the name case-folded, without spaces, slugified. Its figures are the sums of
its tags' (performance_sums.py); lift compares, per location, the campaign's posts with that location's
posts without it on the same platforms, and the campaign's lift sums those baselines.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404
from django.utils.text import slugify

from dashboard.models import CampaignAlias
from dashboard.selectors.kept_orders import Order
from dashboard.selectors.performance_memo import MEMO, built_quietly, data_versions, memo_get, parts_get
from dashboard.selectors.performance_sums import (
    Baselines,
    Figures,
    PlatformBits,
    Totals,
    Window,
    link_sums,
    location_platform_sums,
    tag_totals,
)
from integrations.models import Location, Tag, TagPost

SORTS = {"name": "Campaign", "locations": "Locations", "posts": "Published", "engagement": "Engagement",
         "engagement_per_post": "Engagement per post", "lift_pct": "Lift", "change_pct": "Change",
         "insight_coverage": "Insight coverage"}
DEFAULT_SORT = "-engagement"


@lru_cache(maxsize=100_000)  # slugify costs ~10 µs, and an agency's campaign list slugs every tag name
def campaign_slug(name: str) -> str:
    """The campaign a tag name belongs to (before aliases)."""
    squeezed = re.sub(r"\s+", "", name.casefold())
    slug = slugify(squeezed, allow_unicode=True)
    return slug or "tag-" + hashlib.sha256(squeezed.encode()).hexdigest()[:10]


def campaign_aliases() -> dict[str, str]:
    """{merged slug: the campaign's slug}."""
    return dict(CampaignAlias.objects.values_list("slug", "into_slug"))


@dataclass(kw_only=True)
class CampaignLocation(Figures):
    location: Location | None = None
    tag_ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)  # the campaign's tags here, with their platforms

    @property
    def tags(self) -> list[tuple[str, str]]:
        return list(zip(self.tag_ids, self.names, strict=True))

    def as_dict(self) -> dict[str, Any]:
        return {"location_id": self.location.location_id, "location_name": self.location.name,
                "tag_ids": self.tag_ids, "tag_names": self.names, **self.figures_dict()}


@dataclass(kw_only=True)
class Campaign(Figures):
    slug: str = ""
    names: Counter = field(default_factory=Counter)  # spelling: how many tags carry it
    locations: dict[int, CampaignLocation] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)  # slugs an admin merged into this one

    @cached_property
    def name(self) -> str:
        """The most used spelling; ties go to a mixed-case one ("Summer Sale" over "SUMMER SALE"), then the
        alphabet. Read once the names are counted."""
        if len(self.names) == 1:  # most campaigns: a list of 40,000 reads them all once
            return next(iter(self.names))
        return (min(self.names.items(), key=lambda item: (-item[1], item[0].isupper() or item[0].islower(), item[0]))[0]
                if self.names else self.slug)

    @property
    def spellings(self) -> list[str]:
        return sorted(self.names)

    @property
    def location_count(self) -> int:
        return len(self.locations)

    def ranked_locations(self) -> list[CampaignLocation]:
        """By engagement per post, best first; locations without insights last."""
        rows = list(self.locations.values())
        return (sorted((r for r in rows if r.engagement_per_post is not None),
                       key=lambda r: (-r.engagement_per_post, r.location.name))
                + sorted((r for r in rows if r.engagement_per_post is None), key=lambda r: r.location.name))

    def value(self, key: str) -> Any:
        if key == "name":
            return self.name.casefold()
        if key == "locations":
            return self.location_count
        if key == "engagement":
            return self.sums.engagement
        return getattr(self, key)

    def as_dict(self, *, with_locations: bool = False) -> dict[str, Any]:
        row = {"slug": self.slug, "name": self.name, "spellings": self.spellings, "merged": self.merged,
               "location_count": self.location_count, **self.figures_dict()}
        if with_locations:
            row["locations"] = [loc.as_dict() for loc in self.ranked_locations()]
        return row


class Campaigns(dict[str, Campaign]):
    """{slug: Campaign}, with the orders the list asked of it: kept with it (an agency has tens of thousands
    of campaigns, and sorting them costs more than the rest of a kept view). A merged list also holds the
    locations' parts it was added up from and where each campaign of theirs is (those without posts too), so
    that the next list after one location's sync adds up only the campaigns that location touches."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.orders: dict[str, list[Campaign]] = {}
        self.keyed: dict[str, Order] = {}  # by sort key without its direction, with each campaign's key
        self.parts: dict[int, dict[str, CampaignLocation]] = {}
        self.holders: dict[str, list[int]] = {}  # every campaign of the parts, posts or not: its locations' pks

    def ordered(self, sort: str) -> list[Campaign]:
        """Every campaign by `sort` (sorted_rows' order, ties by slug). Shared: callers must not change it. A
        list merged again after a sync has its orders spliced from the list before (`_merged_again`)."""
        found = self.orders.get(sort)
        if found is None:  # two threads may both sort: the same list either way
            key = sort.lstrip("-")
            order = self.keyed.get(key)
            if order is None:
                with built_quietly():
                    order = self.keyed[key] = Order.of(self.values(), key)
            found = self.orders[sort] = order.listed(descending=sort.startswith("-"))
        return found


def campaigns_collect(*, locations: list[Location], start: date, end: date, only: str | None = None,
                      aliases: dict[str, str] | None = None) -> Campaigns:
    """Every campaign with posts in [start, end] over `locations`, keyed by slug; `only` keeps one campaign
    (and reads only its tags' links).

    Days are the UTC days (an agency spans time zones; a location's own page uses its own). An agency's
    campaigns are summed from every tag of every location, so they are kept per process while the locations'
    data versions stay the same (performance_memo.py), and so is each location's part of them: after one
    location's sync, only that location is summed again, then the parts are added up. A campaign's own page
    takes its campaign from the kept list when there is one. `aliases` as the caller read them, else read
    here. Two queries when kept (the aliases and the data versions), four more otherwise."""
    aliases = campaign_aliases() if aliases is None else aliases
    versions = data_versions(locations)
    key = ("campaigns", start, end, tuple(sorted(aliases.items())))
    whole = (*key, tuple(sorted(versions.items())))
    kept = MEMO.get(whole)
    if kept is not None:
        return kept if only is None else Campaigns({only: kept[only]} if only in kept else {})
    window = Window(start, end, ZoneInfo("UTC"))
    if only is not None:
        found = MEMO.get((*whole, only))
        if found is None:
            found = _merged(_parts(locations=locations, window=window, aliases=aliases, only=only))
            MEMO.put((*whole, only), found)
        return found
    with built_quietly():
        parts = parts_get(key, locations, lambda missing: _parts(locations=missing, window=window, aliases=aliases),
                          versions=versions)
        latest = MEMO.get((*key, "latest"))  # (its key, the list merged last)
        campaigns = _merged(parts) if latest is None else _merged_again(latest[1], parts)
    if latest is not None and latest[0] != whole:
        # Kept under versions that will not come back (a version is never reused): each such list holds dicts
        # of every campaign, which the garbage collector would traverse until the memo let them go.
        MEMO.discard(latest[0])
    MEMO.put(whole, campaigns)
    MEMO.put((*key, "latest"), (whole, campaigns))
    return campaigns


def _campaign_tag_names(locations: list[Location], only: str, aliases: dict[str, str]) -> dict[tuple[int, str], str]:
    """{(location pk, tag id): name} of the tags whose name belongs to campaign `only`: one query over the
    distinct names (an agency holds thousands, not millions), one over those tags."""
    members = {only} | {merged for merged, into in aliases.items() if into == only}
    tags = Tag.objects.filter(location__in=locations)
    wanted = [n for n in tags.values_list("name", flat=True).order_by().distinct() if campaign_slug(n) in members]
    if not wanted:
        return {}
    return {(loc_pk, tag_id): name for loc_pk, tag_id, name in
            tags.filter(name__in=wanted).values_list("location_id", "tag_id", "name").order_by()}


def _parts(*, locations: list[Location], window: Window, aliases: dict[str, str], only: str | None = None
           ) -> dict[int, dict[str, CampaignLocation]]:
    """{location pk: {campaign slug: the campaign's figures there}} for every location asked (an empty part
    for a location without campaigns, so that it is kept too); `only` keeps one campaign and reads only its
    tags' links. Two queries (three when `only` is given, one more when a post carries two spellings)."""
    found: dict[int, dict[str, CampaignLocation]] = {loc.pk: {} for loc in locations}
    names = None
    if only is not None:
        names = _campaign_tag_names(locations, only, aliases)
        locations = [loc for loc in locations if loc.pk in {loc_pk for loc_pk, _ in names}]
        if not locations:
            return found
    by_pk = {loc.pk: loc for loc in locations}
    everything = location_platform_sums(locations=locations, window=window)
    bits = PlatformBits({name for platforms in everything.values() for name in platforms})
    totals = tag_totals(locations=locations, window=window, bits=bits,
                        tag_ids=None if names is None else sorted({tag_id for _, tag_id in names}))
    for (loc_pk, tag_id), tag in totals.items():
        name = tag.name if names is None else names.get((loc_pk, tag_id))
        if name is None:
            continue  # a tag id the tag list does not hold (or, for one campaign, another location's tag)
        own = campaign_slug(name)
        slug = aliases.get(own, own)
        if only is not None and slug != only:
            continue
        at = found[loc_pk].get(slug)
        if at is None:  # the first tag's totals become the campaign's here (each tag has one campaign)
            at = found[loc_pk][slug] = CampaignLocation(location=by_pk[loc_pk], totals=tag)
        else:
            at.totals.add(tag)
        at.tag_ids.append(tag_id)
        at.names.append(name)
    _count_each_post_once(found, window)
    for loc_pk, part in found.items():
        baselines = Baselines(everything.get(loc_pk, {}), bits)
        for at in part.values():
            at.sums = at.totals.sums
            at.baseline = baselines.of(at.totals)
    return found


def _has_posts(figures: Figures) -> bool:
    return bool(figures.sums.published or figures.sums.failed or figures.sums.scheduled)


def _merged(parts: dict[int, dict[str, CampaignLocation]]) -> Campaigns:
    """The campaigns, each location's part added up; those without posts in the range left out (a campaign
    has posts when one of its parts has: counts are never negative). Only those are made: an agency's range
    holds as many campaigns again with posts in the previous period alone."""
    holders: dict[str, list[int]] = {}
    for loc_pk, part in parts.items():
        for slug in part:
            found = holders.get(slug)
            if found is None:
                holders[slug] = [loc_pk]
            else:
                found.append(loc_pk)
    campaigns = Campaigns()
    for slug, pks in holders.items():
        if any(_has_posts(parts[pk][slug]) for pk in pks):
            campaigns[slug] = _campaign(slug, [(pk, parts[pk][slug]) for pk in pks])
    campaigns.parts, campaigns.holders = dict(parts), holders
    return campaigns


def _campaign(slug: str, located: list[tuple[int, CampaignLocation]]) -> Campaign:
    """The campaign of these (location pk, part) pairs, in the parts' order. A campaign of one location (most
    of an agency's) shares that part's figures: parts and campaigns are never changed once merged."""
    if len(located) == 1:
        only = located[0][1]
        campaign = Campaign(slug=slug, sums=only.sums, baseline=only.baseline)
    else:
        campaign = Campaign(slug=slug)
        for _, at in located:
            campaign.add(at)
    for loc_pk, at in located:
        campaign.locations[loc_pk] = at
        for name in at.names:
            campaign.names[name] += 1
            own = campaign_slug(name)
            if own != slug and own not in campaign.merged:
                campaign.merged.append(own)
    return campaign


def _merged_again(before: Campaigns, parts: dict[int, dict[str, CampaignLocation]]) -> Campaigns:
    """`_merged(parts)`, from the campaigns merged `before` from other parts: only the campaigns of the
    locations whose part changed (or that came or went) are added up again, each from its locations' parts
    in the order `_merged` adds them; the others are shared with `before` (campaigns are never changed once
    merged), and the sort orders kept with `before` are spliced (kept_orders.py), not sorted again. From scratch
    when more than half of the locations changed."""
    changed = {pk for pk in {*parts, *before.parts} if parts.get(pk) is not before.parts.get(pk)}
    if len(changed) * 2 > len(parts) or list(before.parts) != [pk for pk in parts if pk in before.parts]:
        return _merged(parts)
    touched = {slug for pk in changed for part in (before.parts.get(pk, {}), parts.get(pk, {})) for slug in part}
    order = {pk: n for n, pk in enumerate(parts)}
    holders = dict(before.holders)
    campaigns = Campaigns(before)
    for slug in touched:
        pks = {pk for pk in before.holders.get(slug, ()) if pk in parts and pk not in changed}
        pks |= {pk for pk in changed if slug in parts.get(pk, {})}
        holders.pop(slug, None)
        campaigns.pop(slug, None)
        if not pks:
            continue
        ranked = holders[slug] = sorted(pks, key=order.__getitem__)
        if any(_has_posts(parts[pk][slug]) for pk in ranked):
            campaigns[slug] = _campaign(slug, [(pk, parts[pk][slug]) for pk in ranked])
    campaigns.parts, campaigns.holders = dict(parts), holders
    gone = [before[slug] for slug in touched if slug in before]
    came = [campaigns[slug] for slug in touched if slug in campaigns]
    for sort_key, kept in list(before.keyed.items()):
        spliced = kept.spliced(sort_key, gone=gone, came=came)
        if spliced is not None:
            campaigns.keyed[sort_key] = spliced
    return campaigns


def _count_each_post_once(parts: dict[int, dict[str, CampaignLocation]], window: Window) -> None:
    """A post carrying two spellings of one campaign in one location ("Spring Sale" and "spring sale", or an
    alias and its campaign) was summed under each of its tags: take the extra copies off (the platforms stay:
    the first copy is still there). One more query, only when some campaign holds several tags in one location
    (rare), over those tags' links alone."""
    several = {(loc_pk, tag_id): at for loc_pk, part in parts.items()
               for at in part.values() if len(at.tag_ids) > 1 for tag_id in at.tag_ids}
    if not several:
        return
    links = (TagPost.objects.filter(location__in={loc_pk for loc_pk, _ in several},
                                    tag_id__in={tag_id for _, tag_id in several})
             .filter(at__gte=window.previous_lo, at__lt=window.hi)
             .values_list("location_id", "tag_id", "post_id", "at", "status", "likes", "comments", "shares")
             .order_by())
    seen: set[tuple] = set()
    for loc_pk, tag_id, post_pk, when, status, likes, comments, shares in links:
        at = several.get((loc_pk, tag_id))
        if at is None:
            continue  # the same tag id in another location, where it is its campaign's only tag
        if (id(at), post_pk) in seen:
            at.totals.sums = at.totals.sums.minus(link_sums(window, when, status, likes, comments, shares))
        seen.add((id(at), post_pk))


def campaigns_list(*, locations: list[Location], start: date, end: date, q: str = "", sort: str = DEFAULT_SORT,
                   min_locations: int = 1) -> list[Campaign]:
    """Campaigns over `locations` with posts in the range, filtered by name (any spelling) and sorted."""
    needle = re.sub(r"\s+", "", q.casefold())
    ordered = campaigns_collect(locations=locations, start=start, end=end).ordered(
        sort if sort.lstrip("-") in SORTS else DEFAULT_SORT)
    if min_locations <= 1 and not needle:
        return list(ordered)
    return [c for c in ordered if c.location_count >= min_locations
            and (not needle or any(needle in re.sub(r"\s+", "", n.casefold()) for n in c.names) or needle in c.slug)]


def campaign_get(*, locations: list[Location], slug: str, start: date, end: date) -> Campaign:
    """One campaign, its locations ranked; an alias's slug answers its campaign. 404 when nothing carries it
    in any visible location (whatever the range)."""
    aliases = campaign_aliases()
    slug = aliases.get(slug, slug)
    found = campaigns_collect(locations=locations, start=start, end=end, only=slug, aliases=aliases).get(slug)
    if found is not None:
        return found
    spellings = [name for name in Tag.objects.filter(location__in=locations).values_list("name", flat=True)
                 .distinct() if campaign_slug(name) == slug]
    if not spellings:
        raise Http404("No such campaign.")
    return Campaign(slug=slug, names=Counter(spellings))


SUGGESTIONS = 20


def campaign_choices(*, locations: list[Location], exclude: str, limit: int = SUGGESTIONS) -> list[tuple[str, str]]:
    """(slug, a spelling) of the other campaign names most like campaign `exclude`, for the merge form's
    suggestions: an agency holds thousands of names, and a list of them all is neither usable nor fast. Names
    sharing its first letters or holding it (or held by it) come first, then by similarity; the form takes any
    name typed too (`campaign_named`). Kept per process while the tags stay the same (performance_memo.py)."""
    aliases = campaign_aliases()
    key = ("campaign-choices", tuple(sorted(loc.pk for loc in locations)), exclude, tuple(sorted(aliases.items())))
    return memo_get(key, locations, lambda: _choices(locations, exclude, aliases, limit))


def _choices(locations: list[Location], exclude: str, aliases: dict[str, str], limit: int) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for name in Tag.objects.filter(location__in=locations, removed_at__isnull=True).values_list(
            "name", flat=True).order_by().distinct():
        slug = campaign_slug(name)
        if slug != exclude and aliases.get(slug) != exclude:
            seen.setdefault(slug, name)

    def likeness(slug: str) -> tuple:
        related = slug[:3] == exclude[:3] or slug in exclude or exclude in slug
        return (not related, -difflib.SequenceMatcher(None, exclude, slug).quick_ratio(), slug)

    return [(slug, seen[slug]) for slug in sorted(seen, key=likeness)[:limit]]


def campaign_named(*, locations: list[Location], typed: str) -> str | None:
    """The slug of the campaign a typed name (or slug) names, when some visible active tag carries it."""
    slug = campaign_slug(typed.strip()) if typed.strip() else ""
    if not slug:
        return None
    names = Tag.objects.filter(location__in=locations, removed_at__isnull=True).values_list("name", flat=True)
    return slug if any(campaign_slug(n) == slug for n in names.order_by().distinct().iterator()) else None


@dataclass(frozen=True)
class CampaignTags:
    """A campaign's active tags in every location, whatever their posts: what a report on it covers (a report's
    period is known only once its locations' time zones are, so it cannot start from `campaigns_collect`)."""

    slug: str
    name: str
    tags: dict[int, list[str]]  # location pk -> HighLevel tag ids, the merged spellings' included
    merged: list[str]

    @property
    def location_pks(self) -> list[int]:
        return sorted(self.tags)

    def locations(self) -> list[Location]:
        return list(Location.objects.filter(pk__in=self.location_pks).order_by("name", "pk"))


def _slug_of(name_or_slug: str, aliases: dict[str, str]) -> str:
    """The campaign a typed name, its slug or a merged alias's slug answers ("" for a blank)."""
    text = (name_or_slug or "").strip()
    if not text:
        return ""
    own = campaign_slug(text)
    return aliases.get(own, own)


def campaign_tags(name_or_slug: str) -> CampaignTags | None:
    """The campaign's active tags, aliases applied (what an admin merged in counts, what they split off no
    longer does); None when no location carries it. Reports store what the marketer typed; the slug is
    computed here each time, so a later merge or split changes the next report."""
    aliases = campaign_aliases()
    slug = _slug_of(name_or_slug, aliases)
    if not slug:
        return None
    members = {slug} | {merged for merged, into in aliases.items() if into == slug}
    active = Tag.objects.filter(removed_at__isnull=True)
    names = [n for n in active.values_list("name", flat=True).order_by().distinct() if campaign_slug(n) in members]
    if not names:
        return None
    tags: dict[int, list[str]] = {}
    spellings: Counter = Counter()
    for location_pk, tag_id, name in active.filter(name__in=names).values_list(
            "location_id", "tag_id", "name").order_by("location_id", "tag_id"):
        tags.setdefault(location_pk, []).append(tag_id)
        spellings[name] += 1
    merged = sorted({campaign_slug(n) for n in spellings} - {slug})
    return CampaignTags(slug=slug, name=Campaign(slug=slug, names=spellings).name, tags=tags, merged=merged)


def campaign_names_shared(limit: int = 200) -> list[str]:
    """The name of every campaign (aliases applied) carried by more than one location: the report form's
    suggestions."""
    aliases = campaign_aliases()
    where: dict[str, set[int]] = {}
    spellings: dict[str, Counter] = {}
    for location_pk, name in Tag.objects.filter(removed_at__isnull=True).values_list(
            "location_id", "name").order_by()[:50000]:
        slug = _slug_of(name, aliases)
        where.setdefault(slug, set()).add(location_pk)
        spellings.setdefault(slug, Counter())[name] += 1
    shared = [Campaign(slug=slug, names=spellings[slug]).name for slug, pks in where.items() if len(pks) > 1]
    return sorted(shared, key=str.casefold)[:limit]
