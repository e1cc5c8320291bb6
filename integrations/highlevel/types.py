"""What the client returns: frozen dataclasses built by parsing.py, each keeping HighLevel's JSON in `.raw`.

Unknown fields are tolerated (they stay in `.raw`). Secret fields are `repr=False`, and so is `.raw`
of anything that carries a token, so a repr, a log line or a traceback never shows one.
A metric HighLevel does not report is absent (None / missing key), never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

PLATFORMS = ("facebook", "instagram", "linkedin", "google", "pinterest", "youtube", "tiktok", "twitter")
STATISTICS_PLATFORMS = ("facebook", "instagram", "linkedin", "google", "pinterest", "youtube", "tiktok")

Number = float | int


@dataclass(frozen=True)
class Tag:
    id: str
    name: str
    location_id: str | None = None
    created_by: str | None = None
    deleted: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class SocialAccount:
    id: str
    profile_id: str | None
    name: str
    platform: str
    type: str | None = None
    oauth_id: str | None = None
    expire: datetime | None = None
    is_expired: bool = False
    meta: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class AccountGroup:
    id: str
    name: str
    account_ids: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class AccountListing:
    accounts: tuple[SocialAccount, ...]
    groups: tuple[AccountGroup, ...]
    # One line per malformed account or group that was left out.
    problems: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Breakdown:
    """`breakdowns.posts|impressions|reach`: a total, its change in % and per platform value/change."""

    total: Number | None
    total_change: Number | None
    platforms: dict[str, dict[str, Number | None]] = field(default_factory=dict)


def day_name(day: date) -> str:
    """HighLevel's label for a day in `dayRange`: "Mon", "Tue", ..."""
    return _DAY_NAMES[day.weekday()]


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day_names_match(labels: tuple[str, ...] | list[str], days: tuple[date, ...] | list[date]) -> bool:
    """`labels` name `days`, one for one, in order. Only the first three letters count, case aside
    ("Monday" and "mon" are Monday): the published example shows "Mon", the rest is *unverified*."""
    return len(labels) == len(days) and all(
        str(label)[:3].lower() == day_name(day).lower() for label, day in zip(labels, days, strict=True))


@dataclass(frozen=True)
class PlatformTotal:
    """`platformTotals.<metric>.<platform>`: a total and one value per day (None: not reported)."""

    total: Number | None
    series: tuple[Number | None, ...] = ()


@dataclass(frozen=True)
class Statistics:
    """One statistics answer, aggregated over `profile_ids`.

    `daily(platform, metric)` is what a sync reads; it answers None when HighLevel does not report
    that metric for that platform.
    """

    profile_ids: tuple[str, ...]
    day_range: tuple[str, ...]
    totals: dict[str, Number | None]
    # postPerformance: {"posts": {platform: series}, "impressions"/"likes"/"comments": series}
    posts_by_platform: dict[str, tuple[Number | None, ...]]
    performance: dict[str, tuple[Number | None, ...]]
    breakdowns: dict[str, Breakdown]
    engagement: dict[str, dict[str, Number | None]]
    platform_totals: dict[str, dict[str, PlatformTotal]]
    demographics: dict[str, Any] = field(default_factory=dict, repr=False)
    trace_id: str | None = None
    # The days of the asked currentRange (None when no range was sent: HighLevel's default window).
    asked_days: tuple[date, ...] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def answers_asked_days(self) -> bool:
        """True when `dayRange` matches the asked days in length and weekday names, in order.

        Weekday names repeat every 7 days, so a match proves the dates only if HighLevel either honours
        the range or answers its default window; the sync never asks a range of 7n days other than that
        window (integrations/sync/statistics.py).
        """
        return self.asked_days is not None and day_names_match(self.day_range, self.asked_days)

    @property
    def platforms(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for by_platform in self.platform_totals.values():
            seen.update(dict.fromkeys(by_platform))
        seen.update(dict.fromkeys(self.posts_by_platform))
        return tuple(seen)

    @property
    def metrics(self) -> tuple[str, ...]:
        names = dict.fromkeys(self.platform_totals)
        if self.posts_by_platform:
            names["posts"] = None
        return tuple(names)

    def daily(self, platform: str, metric: str) -> tuple[Number | None, ...] | None:
        """The per-day series of `metric` on `platform`, aligned with `day_range`; None if not reported."""
        by_platform = self.platform_totals.get(metric)
        if by_platform is not None and platform in by_platform:
            return by_platform[platform].series
        if metric == "posts" and platform in self.posts_by_platform:
            return self.posts_by_platform[platform]
        return None


@dataclass(frozen=True)
class PostInsights:
    """A post's `insights` (v3 only). A count HighLevel left out is None ("not available"), never 0."""

    like: int | None = None
    share: int | None = None
    comment: int | None = None


@dataclass(frozen=True)
class Post:
    id: str
    status: str | None
    platform: str | None
    tag_ids: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = ()
    summary: str | None = None
    post_type: str | None = None
    published_at: datetime | None = None
    scheduled_at: datetime | None = None
    display_date: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    error: str | None = None
    thumbnail: str | None = None
    # None: the answer carried no insights (under 2021-07-28 never; under v3 not yet synced, or a platform
    # that reports none). Not the same as PostInsights(0, 0, 0).
    insights: PostInsights | None = None
    # Fields that were malformed but did not make the post unusable (left as None): the sync records them.
    problems: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def account_id(self) -> str | None:
        return self.account_ids[0] if self.account_ids else None


@dataclass(frozen=True)
class TokenGrant:
    """An answer of `POST /oauth/token`. Never shows its tokens in a repr."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    token_type: str
    expires_in: int | None
    scope: tuple[str, ...]
    user_type: str | None
    location_id: str | None = None
    company_id: str | None = None
    user_id: str | None = None
    approved_locations: tuple[str, ...] = ()
    is_bulk_installation: bool = False
    plan_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class LocationToken:
    """An answer of `POST /oauth/locationToken`: a location token minted from an agency token (no refresh)."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int | None
    scope: tuple[str, ...]
    location_id: str | None
    company_id: str | None = None
    user_type: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class InstalledLocation:
    id: str
    name: str
    address: str | None = None
    is_installed: bool = True
    installed_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class LocationInfo:
    """An answer of `GET /locations/{locationId}`: the location's own name, time zone and address.

    Only id, name, timezone, address and companyId are documented to our satisfaction; the address
    parts (city, state, country, postalCode) are *unverified*: each is None when absent or not a string.
    """

    id: str
    name: str
    timezone: str | None = None
    address: str | None = None  # the street line
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None
    company_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def one_line_address(self) -> str:
        """`12 Elm St, Austin, TX 78701, US`; parts the street line already holds are not repeated."""
        region = " ".join(part for part in (self.state, self.postal_code) if part)
        line = (self.address or "").strip()
        for part in (self.city, region, self.country):
            part = (part or "").strip()
            if part and part not in line:
                line = f"{line}, {part}" if line else part
        return line
