"""The sums every tag-performance figure is made of, aggregated in SQL (docs/architecture.md, "Tag performance").

A post belongs to the local day (the location's time zone) of its `published_at`; a post that was never
published (failed, scheduled) to the day of its `display_date`. Likes, comments, shares and engagement (their
sum) count published posts only. Per-post figures divide by the published posts *with insights* ("covered"):
HighLevel reports insights only for Facebook, Instagram, LinkedIn and YouTube, so a TikTok post counts as
published but would otherwise drag every mean towards zero.

One grouped query answers both the asked range and the previous period of the same length (conditional
aggregates), so every page reads a constant number of queries whatever the number of tags; its rows are read
raw (`raw_rows`), without the ORM's per-value converters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from integrations.metrics import percent_change
from integrations.models import Location, Post, Tag, TagPost

T = TypeVar("T")
INSIGHT_PLATFORMS = ("facebook", "instagram", "linkedin", "youtube")
INSIGHTS_NOTE = ("HighLevel reports likes, comments and shares only for Facebook, Instagram, LinkedIn and YouTube; "
                 "posts on other platforms count as published but carry no engagement.")
PUBLISHED, FAILED, SCHEDULED = "published", "failed", "scheduled"


def location_zone(location: Location) -> ZoneInfo:
    try:
        return ZoneInfo(location.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant the local day begins (the first moment of `day` in `zone`)."""
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass(frozen=True)
class Window:
    """A range of local days [start, end] and the previous period of the same length, as instants."""

    start: date
    end: date
    zone: ZoneInfo

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def lo(self) -> datetime:
        return day_start(self.start, self.zone)

    @property
    def hi(self) -> datetime:
        return day_start(self.end + timedelta(days=1), self.zone)

    @property
    def previous_lo(self) -> datetime:
        return day_start(self.start - timedelta(days=self.length), self.zone)


def between_q(prefix: str, lo: datetime, hi: datetime) -> Q:
    """The post's day falls in [lo, hi): `at` is published_at, or display_date for a post never published
    (Post.when, stored on the post and on its tag links)."""
    return Q(**{f"{prefix}at__gte": lo, f"{prefix}at__lt": hi})


def covered_q(prefix: str) -> Q:
    return Q(**{f"{prefix}status": PUBLISHED}) & (
        Q(**{f"{prefix}likes__isnull": False}) | Q(**{f"{prefix}comments__isnull": False})
        | Q(**{f"{prefix}shares__isnull": False}))


def engagement_expression(prefix: str = ""):
    zero = Value(0, output_field=IntegerField())
    return (Coalesce(f"{prefix}likes", zero) + Coalesce(f"{prefix}comments", zero)
            + Coalesce(f"{prefix}shares", zero))


def posts_filtered(queryset: QuerySet, prefix: str, *, platform: str = "", account: str = "") -> QuerySet:
    if platform:
        queryset = queryset.filter(**{f"{prefix}platform": platform})
    if account:
        queryset = queryset.filter(**{f"{prefix}account_id": account})
    return queryset


def _aggregates(window: Window) -> dict:
    """Per (keys, platform): the range's counts by status and its published posts' insights, and the previous
    period's covered posts and engagement, as conditional aggregates of one grouped query. In Sums' field order;
    named n_* as a name like "likes" would shadow the column in the other aggregates."""
    zero = Value(0, output_field=IntegerField())
    now, before = Q(at__gte=window.lo), Q(at__lt=window.lo)
    published = now & Q(status=PUBLISHED)
    return {"n_published": Count("pk", filter=published), "n_failed": Count("pk", filter=now & Q(status=FAILED)),
            "n_scheduled": Count("pk", filter=now & Q(status=SCHEDULED)),
            "n_covered": Count("pk", filter=now & covered_q("")),
            "n_likes": Coalesce(Sum("likes", filter=published), zero),
            "n_comments": Coalesce(Sum("comments", filter=published), zero),
            "n_shares": Coalesce(Sum("shares", filter=published), zero),
            "n_prev_covered": Count("pk", filter=before & covered_q("")),
            "n_prev_engagement": Coalesce(Sum(engagement_expression(), filter=before & covered_q("")), zero)}


def raw_rows(queryset: QuerySet, wrap: str = "{}") -> list[tuple]:
    """A values_list queryset's rows as the database driver answers them. Django's per-value converters (an
    int() for every SUM and COUNT) cost more than the query itself over thousands of groups, and the
    driver's values are already ints. `wrap` puts the query's SQL inside another statement (at its `{}`)."""
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # e.g. location__in=[]: a user who sees no location
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(wrap.format(sql), params)
        return cursor.fetchall()


def grouped_sums(rows: QuerySet, keys: tuple[str, ...], window: Window) -> dict[tuple, dict[str, Sums]]:
    """{keys' values: {platform: Sums}} over `rows` (posts or tag links, already filtered by location,
    platform and account): one grouped query over the range and its previous period, read through the
    (location, at, ...) covering index."""
    found: dict[tuple, dict[str, Sums]] = {}
    width = len(keys)
    grouped = (rows.filter(between_q("", window.previous_lo, window.hi)).values_list(*keys, "platform")
               .annotate(**_aggregates(window)).order_by())
    for row in raw_rows(grouped):
        found.setdefault(row[:width], {})[row[width]] = Sums(*row[width + 1:])
    return found


@dataclass(slots=True)
class Sums:
    """Additive counts and totals of a set of posts (a tag on a platform, a location on a platform, ...)."""

    published: int = 0
    failed: int = 0
    scheduled: int = 0
    covered: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    prev_covered: int = 0
    prev_engagement: int = 0

    FIELDS = ("published", "failed", "scheduled", "covered", "likes", "comments", "shares", "prev_covered",
              "prev_engagement")

    @property
    def engagement(self) -> int:
        return self.likes + self.comments + self.shares

    def add(self, other: Sums) -> None:
        # Spelled out rather than looped over FIELDS: this runs once per tag and platform (thousands per page).
        self.published += other.published
        self.failed += other.failed
        self.scheduled += other.scheduled
        self.covered += other.covered
        self.likes += other.likes
        self.comments += other.comments
        self.shares += other.shares
        self.prev_covered += other.prev_covered
        self.prev_engagement += other.prev_engagement

    def minus(self, other: Sums) -> Sums:
        return Sums(self.published - other.published, self.failed - other.failed, self.scheduled - other.scheduled,
                    self.covered - other.covered, self.likes - other.likes, self.comments - other.comments,
                    self.shares - other.shares, self.prev_covered - other.prev_covered,
                    self.prev_engagement - other.prev_engagement)


def link_sums(window: Window, at: datetime | None, status: str, likes: int | None, comments: int | None,
              shares: int | None) -> Sums:
    """What one post (or one tag link's copy of it) adds to the sums of `window`: the grouped query's
    arithmetic (`_aggregates`) for a single row."""
    sums = Sums()
    if at is None or not window.previous_lo <= at < window.hi:
        return sums
    covered = status == PUBLISHED and not (likes is None and comments is None and shares is None)
    engagement = (likes or 0) + (comments or 0) + (shares or 0)
    if at < window.lo:
        sums.prev_covered, sums.prev_engagement = (1, engagement) if covered else (0, 0)
    elif status == PUBLISHED:
        sums.published, sums.covered = 1, int(covered)
        sums.likes, sums.comments, sums.shares = likes or 0, comments or 0, shares or 0
    elif status == FAILED:
        sums.failed = 1
    elif status == SCHEDULED:
        sums.scheduled = 1
    return sums


class PlatformBits:
    """The platforms of a window as bits, so that one grouped query per tag can say on which platforms the tag
    posted and where its posts carry insights (a SUM of DISTINCT bits is their OR, on SQLite and PostgreSQL)
    instead of returning a row per tag and platform: five to seven times fewer rows to read and sum."""

    def __init__(self, platforms: Iterable[str]):
        self.names = sorted(set(platforms))

    def expression(self) -> Case:
        return Case(*[When(platform=name, then=Value(1 << n)) for n, name in enumerate(self.names)],
                    default=Value(0), output_field=IntegerField())

    def names_of(self, mask: int) -> list[str]:
        return [name for n, name in enumerate(self.names) if mask >> n & 1]


@dataclass(slots=True)
class Totals:
    """A tag's sums over every platform (or a campaign's in one location), with two PlatformBits masks: the
    platforms it posted on in the range (any status), and those where its posts carry insights (what its lift
    compares on)."""

    sums: Sums = field(default_factory=Sums)
    posted: int = 0
    covered: int = 0
    name: str | None = None  # a tag's name, None when the tag list does not hold its id

    def add(self, other: Totals) -> None:
        self.sums.add(other.sums)
        self.posted |= other.posted
        self.covered |= other.covered


def tag_totals(*, locations: Iterable[Location], window: Window, bits: PlatformBits, platform: str = "",
               account: str = "", tag_ids: list[str] | None = None) -> dict[tuple[int, str], Totals]:
    """{(location pk, tag id): Totals} over the posts in the window or its previous period, with the tags'
    names: one query over the tag links' copies of their posts' fields (TagPost.COPIED), without joining the
    posts; the names are joined to its groups (thousands), not read for every tag of the locations (at agency
    scale, hundreds of thousands). `tag_ids` narrows to those tags."""
    links = posts_filtered(TagPost.objects.filter(location__in=list(locations)), "", platform=platform,
                           account=account)
    if tag_ids is not None:
        links = links.filter(tag_id__in=tag_ids)
    now, zero = Q(at__gte=window.lo), Value(0, output_field=IntegerField())
    masks = {"m_posted": Coalesce(Sum(bits.expression(), distinct=True,
                                      filter=now & Q(status__in=(PUBLISHED, FAILED, SCHEDULED))), zero),
             "m_covered": Coalesce(Sum(bits.expression(), distinct=True, filter=now & covered_q("")), zero)}
    grouped = (links.filter(between_q("", window.previous_lo, window.hi)).values_list("location_id", "tag_id")
               .annotate(**_aggregates(window), **masks).order_by())
    quote = connections[grouped.db].ops.quote_name
    table, location, tag_id = quote(Tag._meta.db_table), quote("location_id"), quote("tag_id")
    named = (f"SELECT grouped.*, tag.{quote('name')} FROM ({{}}) grouped "  # noqa: S608 (constant names only)
             f"LEFT JOIN {table} tag ON tag.{location} = grouped.{location} AND tag.{tag_id} = grouped.{tag_id}")
    return {(row[0], row[1]): Totals(Sums(*row[2:11]), row[11], row[12], row[13])
            for row in raw_rows(grouped, wrap=named)}


def location_platform_sums(*, locations: Iterable[Location], window: Window, platform: str = "",
                           account: str = "") -> dict[int, dict[str, Sums]]:
    """{location pk: {platform: Sums}} over every post of the window (tagged or not): one query."""
    posts = posts_filtered(Post.objects.filter(location__in=list(locations)), "", platform=platform, account=account)
    return {key[0]: platforms for key, platforms in grouped_sums(posts, ("location_id",), window).items()}


class Baselines:
    """The posts *without* a tag (or campaign) in one location, on the platforms where its own posts carry
    insights: the location's sums on those platforms less its own. Its insight figures (covered posts, likes,
    comments, shares) all lie on those platforms, so its totals come off whole; those are the baseline's only
    figures (what lift reads). The location's sums per set of platforms are kept: tags share a handful."""

    def __init__(self, everything: dict[str, Sums], bits: PlatformBits):
        self.everything, self.bits = everything, bits
        self._rest: dict[int, Sums] = {}

    def of(self, totals: Totals) -> Sums:
        rest = self._rest.get(totals.covered)
        if rest is None:
            rest = self._rest[totals.covered] = Sums()
            for name in self.bits.names_of(totals.covered):
                rest.add(self.everything.get(name, Sums()))
        own = totals.sums
        return Sums(covered=rest.covered - own.covered, likes=rest.likes - own.likes,
                    comments=rest.comments - own.comments, shares=rest.shares - own.shares)


def sorted_rows(rows: list[T], sort: str) -> list[T]:
    """Rows (tag scores, campaigns: anything with `value(key)` and `name`) by `sort`, a key with `-` first for
    descending; ties by name, and rows without the figure last whichever the direction. Each row's figure is
    read once."""
    key, descending = sort.lstrip("-"), sort.startswith("-")
    valued = [(r.value(key), r.name.casefold(), r) for r in rows]
    present = [v for v in valued if v[0] is not None]
    missing = [v for v in valued if v[0] is None]
    present.sort(key=lambda v: (v[0], v[1]), reverse=descending)
    missing.sort(key=lambda v: v[1])
    return [v[2] for v in present + missing]


def per_post(total: float, posts: int) -> float | None:
    return round(total / posts, 2) if posts else None


def lift_pct(own: Sums, baseline: Sums) -> float | None:
    """Engagement per post against the baseline's, in percent; None when either has no post with insights
    or the baseline has no engagement at all."""
    mine, theirs = per_post(own.engagement, own.covered), per_post(baseline.engagement, baseline.covered)
    if mine is None or not theirs:
        return None
    return round((own.engagement / own.covered) / (baseline.engagement / baseline.covered) * 100 - 100, 1)


def coverage(sums: Sums) -> float | None:
    """The share (0 to 1) of published posts that carry insights."""
    return round(sums.covered / sums.published, 3) if sums.published else None


def median(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def engagement_values(*, location: Location, tag_ids: list[str], window: Window, platform: str = "",
                      account: str = "") -> dict[str, dict[str, list[int]]]:
    """{tag id: {"likes": [...], "comments": [...], "shares": [...], "engagement": [...]}} of the covered
    posts in the window, for medians: one query, only for the tags asked (a page's)."""
    links = TagPost.objects.filter(location=location, tag_id__in=tag_ids).filter(
        between_q("", window.lo, window.hi) & covered_q(""))
    links = posts_filtered(links, "", platform=platform, account=account)
    found: dict[str, dict[str, list[int]]] = {}
    for tag_id, likes, comments, shares in links.values_list("tag_id", "likes", "comments", "shares").order_by():
        values = found.setdefault(tag_id, {"likes": [], "comments": [], "shares": [], "engagement": []})
        likes, comments, shares = likes or 0, comments or 0, shares or 0
        values["likes"].append(likes)
        values["comments"].append(comments)
        values["shares"].append(shares)
        values["engagement"].append(likes + comments + shares)
    return found


@dataclass(kw_only=True)
class Figures:
    """Sums and their baseline (the posts without the tag or campaign), with the per-post arithmetic that the
    scorecard's rows and the campaigns share."""

    sums: Sums = field(default_factory=Sums)
    baseline: Sums = field(default_factory=Sums)

    def add(self, other: Figures) -> None:
        self.sums.add(other.sums)
        self.baseline.add(other.baseline)

    @property
    def posts(self) -> int:
        return self.sums.published

    @property
    def engagement_per_post(self) -> float | None:
        return per_post(self.sums.engagement, self.sums.covered)

    @property
    def likes_per_post(self) -> float | None:
        return per_post(self.sums.likes, self.sums.covered)

    @property
    def comments_per_post(self) -> float | None:
        return per_post(self.sums.comments, self.sums.covered)

    @property
    def shares_per_post(self) -> float | None:
        return per_post(self.sums.shares, self.sums.covered)

    @property
    def previous_engagement_per_post(self) -> float | None:
        return per_post(self.sums.prev_engagement, self.sums.prev_covered)

    @property
    def change_pct(self) -> float | None:
        return percent_change(self.engagement_per_post, self.previous_engagement_per_post)

    @property
    def lift_pct(self) -> float | None:
        return lift_pct(self.sums, self.baseline)

    @property
    def baseline_engagement_per_post(self) -> float | None:
        return per_post(self.baseline.engagement, self.baseline.covered)

    @property
    def insight_coverage(self) -> float | None:
        return coverage(self.sums)

    def figures_dict(self) -> dict[str, Any]:
        s = self.sums
        return {"posts": s.published, "published": s.published, "failed": s.failed, "scheduled": s.scheduled,
                "likes": s.likes, "comments": s.comments, "shares": s.shares, "engagement": s.engagement,
                "engagement_per_post": self.engagement_per_post, "lift_pct": self.lift_pct,
                "insight_coverage": self.insight_coverage,
                "previous_engagement_per_post": self.previous_engagement_per_post, "change_pct": self.change_pct}
