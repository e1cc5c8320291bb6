"""Tag scorecards of one location: what the performance page, its API and CSV, and client reports show.

`tag_scorecard` is the one entry point (keyword-only); the arithmetic lives in performance_sums.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dashboard.selectors.performance_memo import memo_get
from dashboard.selectors.performance_sums import (
    INSIGHT_PLATFORMS,
    Figures,
    Group,
    Sums,
    Window,
    baseline_of,
    engagement_values,
    location_platform_sums,
    location_zone,
    median,
    per_post,
    tag_platform_sums,
)
from integrations.models import Location, Tag

SMALL_SAMPLE = 5  # fewer posts with insights than this: the per-post figures are flagged as unreliable
SORTS = {
    "name": "Tag", "posts": "Published", "failed": "Failed", "scheduled": "Scheduled", "likes": "Likes",
    "comments": "Comments", "shares": "Shares", "engagement": "Engagement",
    "engagement_per_post": "Engagement per post", "median_engagement": "Median engagement per post",
    "likes_per_post": "Likes per post", "comments_per_post": "Comments per post",
    "shares_per_post": "Shares per post", "lift_pct": "Lift", "change_pct": "Change",
    "insight_coverage": "Insight coverage",
}
DEFAULT_SORT = "-engagement_per_post"
API_KEYS = ("tag_id", "name", "posts", "published", "failed", "scheduled", "likes", "comments", "shares",
            "engagement", "engagement_per_post", "median_engagement_per_post", "likes_per_post",
            "comments_per_post", "shares_per_post", "lift_pct", "insight_coverage", "previous_engagement_per_post",
            "change_pct", "small_sample", "platforms", "median_likes_per_post", "median_comments_per_post",
            "median_shares_per_post")


def sort_is_valid(sort: str) -> bool:
    return sort.lstrip("-") in SORTS


@dataclass(kw_only=True)
class TagScore(Figures):
    """One tag's figures over the range (Figures: per-post figures are over its published posts with
    insights, lift against the location's posts without it)."""

    tag_id: str
    name: str
    platforms: list[str]
    lift_platforms: list[str]  # the platforms its lift compares on: where its posts have insights
    medians: dict[str, float | None] = field(default_factory=dict)
    known: bool = True  # False: posts name a tag id the tag list does not (yet) hold

    @property
    def small_sample(self) -> bool:
        return self.sums.covered < SMALL_SAMPLE

    @property
    def without_insight_platforms(self) -> bool:
        """Some of its published posts are on platforms HighLevel reports no insights for."""
        return self.sums.covered < self.sums.published and any(p not in INSIGHT_PLATFORMS for p in self.platforms)

    def value(self, key: str) -> Any:
        if key == "median_engagement":
            return self.medians.get("engagement")
        if key == "name":
            return self.name.casefold()
        if key == "posts":
            return self.sums.published
        if key in Sums.FIELDS or key == "engagement":
            return getattr(self.sums, key)
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        row = {key: self.value(key) for key in API_KEYS if key != "name" and not key.startswith("median_")}
        row.update({"name": self.name, "published": self.sums.published})
        row.update({f"median_{name}_per_post": self.medians.get(name)
                    for name in ("engagement", "likes", "comments", "shares")})
        return {key: row[key] for key in API_KEYS}


@dataclass
class Scorecard:
    location: Location
    start: date
    end: date
    rows: list[TagScore]
    location_sums: Sums  # every post of the location in the range (tagged or not), for the headline

    @property
    def engagement_per_post(self) -> float | None:
        return per_post(self.location_sums.engagement, self.location_sums.covered)


def _ordered(rows: list[TagScore], sort: str) -> list[TagScore]:
    key, descending = sort.lstrip("-"), sort.startswith("-")
    present = [r for r in rows if r.value(key) is not None]
    missing = [r for r in rows if r.value(key) is None]
    present.sort(key=lambda r: (r.value(key), r.name.casefold()), reverse=descending)
    missing.sort(key=lambda r: r.name.casefold())
    return present + missing  # rows without the figure come last whichever the direction


def scorecard_medians(card: Scorecard, rows: list[TagScore], *, platform: str = "", account: str = "") -> None:
    """Fill the medians of `rows` (one query): a page computes them for its own rows only."""
    window = Window(card.start, card.end, location_zone(card.location))
    values = engagement_values(location=card.location, tag_ids=[r.tag_id for r in rows], window=window,
                               platform=platform, account=account)
    for row in rows:
        found = values.get(row.tag_id, {})
        row.medians = {name: median(found.get(name, [])) for name in ("likes", "comments", "shares", "engagement")}


def _scored(*, location: Location, start: date, end: date, platform: str, account: str,
            tag_ids: list[str] | None) -> tuple[list[TagScore], Sums]:
    """Every tag's row (unsorted, without medians) and the location's sums: three queries."""
    window = Window(start, end, location_zone(location))
    groups: dict[str, Group] = {
        tag_id: group for (_, tag_id), group in
        tag_platform_sums(locations=[location], window=window, platform=platform, account=account,
                          tag_ids=tag_ids).items()}
    everything = location_platform_sums(locations=[location], window=window, platform=platform,
                                        account=account).get(location.pk, {})
    names = dict(Tag.objects.filter(location=location, tag_id__in=list(groups)).values_list("tag_id", "name"))
    rows = []
    for tag_id, group in groups.items():
        total = group.total()
        if not (total.published or total.failed or total.scheduled):
            continue  # only the previous period had posts
        rows.append(TagScore(tag_id=tag_id, name=names.get(tag_id, tag_id), sums=total,
                             baseline=baseline_of(group, everything),
                             platforms=sorted(p for p, s in group.by_platform.items()
                                              if s.published or s.failed or s.scheduled),
                             lift_platforms=group.platforms_with_insights(), known=tag_id in names))
    location_sums = Sums()
    for sums in everything.values():
        location_sums.add(sums)
    return rows, location_sums


def tag_scorecard(*, location: Location, start: date, end: date, platform: str = "", account: str = "",
                  q: str = "", sort: str = DEFAULT_SORT, medians: slice | None = slice(None),
                  tag_ids: list[str] | None = None) -> Scorecard:
    """Every tag of `location` carried by a post in the local days [start, end], with its figures.

    - `platform` / `account` (HighLevel's account id) narrow the posts; `q` keeps tags whose name contains
      it (case-insensitive); `sort` is a key of SORTS, `-` first for descending (rows without the figure last).
    - Lift compares the tag's engagement per post with the location's posts *without* the tag on the same
      platforms (those where the tag's posts have insights), in the same range.
    - Medians are filled for `rows[medians]` only (one more query; `None` for none): a page asks for its own
      rows. Sorting by the median fills every row's.
    - `tag_ids` keeps only those tags (a tag's own page); their lift is the same as in the full card.
    - Tags without posts in the range are left out. Whatever the number of tags: four queries (the data
      version and the medians) while the same sums are kept (performance_memo.py), seven otherwise.
    """
    rows, location_sums = memo_get(
        ("scorecard", location.pk, start, end, location.timezone, platform, account,
         tuple(tag_ids) if tag_ids is not None else None), [location],
        lambda: _scored(location=location, start=start, end=end, platform=platform, account=account, tag_ids=tag_ids))
    needle = q.strip().casefold()
    # Kept rows are shared: the medians filled in place depend only on the memo's key, so they stay true.
    rows = [r for r in rows if not needle or needle in r.name.casefold()]
    card = Scorecard(location=location, start=start, end=end, rows=rows, location_sums=location_sums)
    if sort.lstrip("-") == "median_engagement":
        scorecard_medians(card, rows, platform=platform, account=account)
        medians = None
    card.rows = _ordered(rows, sort if sort_is_valid(sort) else DEFAULT_SORT)
    if medians is not None and card.rows:
        scorecard_medians(card, card.rows[medians], platform=platform, account=account)
    return card
