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
    Baselines,
    Figures,
    PlatformBits,
    Sums,
    Window,
    engagement_values,
    location_platform_sums,
    location_zone,
    median,
    per_post,
    sorted_rows,
    tag_totals,
)
from integrations.models import Location

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


def scorecard_medians(card: Scorecard, rows: list[TagScore], *, platform: str = "", account: str = "") -> None:
    """Fill the medians of `rows` that lack them (one query, none when all have them): a page computes them for
    its own rows only. Rows are kept between views (performance_memo.py) and their medians depend only on what
    the rows were kept for, so a median once filled stays true."""
    rows = [r for r in rows if not r.medians]
    if not rows:
        return
    window = Window(card.start, card.end, location_zone(card.location))
    values = engagement_values(location=card.location, tag_ids=[r.tag_id for r in rows], window=window,
                               platform=platform, account=account)
    for row in rows:
        found = values.get(row.tag_id, {})
        row.medians = {name: median(found.get(name, [])) for name in ("likes", "comments", "shares", "engagement")}


@dataclass
class _Scored:
    """What a scorecard keeps between views: its rows, the location's sums, and the rows in each order asked."""

    rows: list[TagScore]
    location_sums: Sums
    orders: dict[str, list[TagScore]] = field(default_factory=dict)


def _scored(*, location: Location, start: date, end: date, platform: str, account: str,
            tag_ids: list[str] | None) -> _Scored:
    """Every tag's row (unsorted, without medians) and the location's sums: two queries."""
    window = Window(start, end, location_zone(location))
    everything = location_platform_sums(locations=[location], window=window, platform=platform,
                                        account=account).get(location.pk, {})
    bits = PlatformBits(everything)
    totals = tag_totals(locations=[location], window=window, bits=bits, platform=platform, account=account,
                        tag_ids=tag_ids)
    baselines = Baselines(everything, bits)
    rows = []
    for (_, tag_id), found in totals.items():
        total = found.sums
        if not (total.published or total.failed or total.scheduled):
            continue  # only the previous period had posts
        rows.append(TagScore(tag_id=tag_id, name=found.name or tag_id, sums=total,
                             baseline=baselines.of(found), platforms=bits.names_of(found.posted),
                             lift_platforms=bits.names_of(found.covered), known=found.name is not None))
    location_sums = Sums()
    for sums in everything.values():
        location_sums.add(sums)
    return _Scored(rows, location_sums)


def tag_scorecard(*, location: Location, start: date, end: date, platform: str = "", account: str = "",
                  q: str = "", sort: str = DEFAULT_SORT, medians: slice | None = slice(None),
                  tag_ids: list[str] | None = None) -> Scorecard:
    """Every tag of `location` carried by a post in the local days [start, end], with its figures.

    - `platform` / `account` (HighLevel's account id) narrow the posts; `q` keeps tags whose name contains
      it (case-insensitive); `sort` is a key of SORTS, `-` first for descending (rows without the figure last).
    - Lift compares the tag's engagement per post with the location's posts *without* the tag on the same
      platforms (those where the tag's posts have insights), in the same range.
    - Medians are filled for `rows[medians]` only (one more query, when they are not kept yet; `None` for
      none): a page asks for its own rows. Sorting by the median fills every row's.
    - `tag_ids` keeps only those tags (a tag's own page); their lift is the same as in the full card.
    - Tags without posts in the range are left out. Whatever the number of tags: one or two queries (the
      data version and the medians) while the same sums are kept (performance_memo.py), four otherwise.
    """
    kept = memo_get(
        ("scorecard", location.pk, start, end, location.timezone, platform, account,
         tuple(tag_ids) if tag_ids is not None else None), [location],
        lambda: _scored(location=location, start=start, end=end, platform=platform, account=account, tag_ids=tag_ids))
    sort = sort if sort_is_valid(sort) else DEFAULT_SORT
    card = Scorecard(location=location, start=start, end=end, rows=kept.rows, location_sums=kept.location_sums)
    if sort.lstrip("-") == "median_engagement":
        scorecard_medians(card, kept.rows, platform=platform, account=account)
    ordered = kept.orders.get(sort)
    if ordered is None:  # two threads may both sort: the same list either way
        ordered = kept.orders[sort] = sorted_rows(kept.rows, sort)
    needle = q.strip().casefold()
    card.rows = [r for r in ordered if needle in r.name.casefold()] if needle else list(ordered)
    if medians is not None and card.rows:
        scorecard_medians(card, card.rows[medians], platform=platform, account=account)
    return card
