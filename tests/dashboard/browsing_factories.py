"""Mirror rows made directly (no sync), for the browsing tests and bench/pages.py: locations with a
connection, tags in bulk, posts carrying tags, daily statistics per account and platform, demographics. Each
moves the location's data versions as the sync's writes do (integrations/data_versions.py)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from django.utils import timezone

from integrations.data_versions import STATISTICS, TAGS, versions_move
from integrations.models import (
    Connection,
    Demographics,
    Event,
    Location,
    Post,
    SocialAccount,
    StatisticsPoint,
    Tag,
    TagDetail,
    TagPost,
)
from integrations.sync.agency_rollup import rollups_rebuild

PLATFORMS = ("facebook", "instagram", "linkedin", "google", "tiktok", "youtube", "pinterest")
METRICS = ("posts", "impressions", "reach", "likes", "comments", "shares", "followers")


def location_make(location_id: str = "loc-acme", name: str = "Acme Bakery", *, tz: str = "America/New_York",
                  synced_at: datetime | None = None, status: str = "succeeded") -> Location:
    connection = Connection.objects.create(name=f"{name} token", kind=Connection.Kind.PRIVATE_TOKEN,
                                           location_id=location_id)
    now = timezone.now()
    return Location.objects.create(location_id=location_id, name=name, timezone=tz, connection=connection,
                                   last_synced_at=synced_at or now, first_synced_at=now - timedelta(days=60),
                                   tags_baselined_at=now - timedelta(days=60), last_sync_status=status)


def tag_make(location: Location, name: str, *, tag_id: str | None = None, first_seen: datetime | None = None,
             baseline: bool = False, removed: datetime | None = None, updated: datetime | None = None,
             details: dict | None = None) -> Tag:
    now = timezone.now()
    tag = Tag.objects.create(
        location=location, tag_id=tag_id or f"t-{name}", name=name, sort_name=name.casefold(),
        created_at=updated or now - timedelta(days=90), updated_at=updated or now - timedelta(days=1),
        raw={"_id": tag_id or f"t-{name}", "name": name}, first_seen_at=first_seen or now - timedelta(days=30),
        last_seen_at=now, removed_at=removed, is_baseline=baseline,
    )
    if details is not None:
        TagDetail.objects.create(tag=tag, data=details, fetched_at=now, changed_at=now)
    versions_move(location.pk, TAGS)  # as the sync's writes do
    return tag


def tags_bulk(location: Location, count: int, *, now: datetime | None = None, seed: int = 7) -> None:
    """`count` tags: mostly baseline, every 50th new (first seen within days), every 40th removed."""
    now = now or timezone.now()
    rng = random.Random(seed)
    words = ["spring", "summer", "promo", "sale", "launch", "event", "team", "recipe", "tips", "news", "offer"]
    rows = []
    for n in range(count):
        name = f"{rng.choice(words)}-{rng.choice(words)}-{n:05d}"
        is_new = n % 50 == 0
        first_seen = now - timedelta(days=2 if is_new else 60, minutes=n % 1000)
        rows.append(Tag(location=location, tag_id=f"tag{n:06d}", name=name, sort_name=name.casefold(),
                        created_at=first_seen, updated_at=now - timedelta(minutes=n * 7 % 50000),
                        raw={"_id": f"tag{n:06d}", "name": name}, first_seen_at=first_seen, last_seen_at=now,
                        removed_at=now - timedelta(days=1) if n % 40 == 1 else None, is_baseline=not is_new))
    Tag.objects.bulk_create(rows, batch_size=2000)
    versions_move(location.pk, TAGS)


def accounts_make(location: Location, *, platforms=PLATFORMS, per_platform: int = 1) -> list[SocialAccount]:
    now = timezone.now()
    rows = [SocialAccount(location=location, account_id=f"{location.location_id}-{p}-{i}", profile_id=f"prof-{p}-{i}",
                          platform=p, name=f"{p.capitalize()} page {i + 1}", first_seen_at=now, last_seen_at=now)
            for p in platforms for i in range(per_platform)]
    return SocialAccount.objects.bulk_create(rows)


def statistics_make(location: Location, *, end: date, days: int, accounts: list[SocialAccount],
                    gaps: set[date] = frozenset(), seed: int = 3, value: float | None = None) -> None:
    """Per-account points and the all-accounts sums, every metric, every day; `gaps` days are left out."""
    rng = random.Random(seed)
    now = timezone.now()
    rows, totals = [], {}
    for account in accounts:
        for n in range(days):
            day = end - timedelta(days=n)
            if day in gaps:
                continue
            for metric in METRICS:
                number = value if value is not None else float(rng.randint(1, 500))
                rows.append(StatisticsPoint(location=location, profile_id=account.profile_id, platform=account.platform,
                                            metric=metric, day=day, value=number, fetched_at=now))
                key = (account.platform, metric, day)
                totals[key] = totals.get(key, 0.0) + number
    rows += [StatisticsPoint(location=location, profile_id="", platform=p, metric=m, day=d, value=v, fetched_at=now)
             for (p, m, d), v in totals.items()]
    StatisticsPoint.objects.bulk_create(rows, batch_size=5000)
    rollups_rebuild(end - timedelta(days=days), end)  # as the sync's writes keep them
    versions_move(location.pk, STATISTICS)


def demographics_make(location: Location, *, end: date, profile_id: str = "") -> Demographics:
    data = {"gender": {"totals": {"male": {"total": 40, "percentage": 40}, "female": {"total": 55, "percentage": 55},
                                  "unknown": {"total": 5, "percentage": 5}}},
            "age": {"totals": {"18-24": 20, "25-34": 50, "35-44": 30}}}
    versions_move(location.pk, STATISTICS)
    return Demographics.objects.create(location=location, profile_id=profile_id, range_start=end - timedelta(days=29),
                                       range_end=end, data=data, fetched_at=timezone.now())


def post_make(location: Location, post_id: str, *, tag_ids: list[str], status: str = "published",
              when: datetime | None = None, summary: str = "A post", **fields) -> Post:
    now = timezone.now()
    fields = {"platform": "facebook", "display_date": when or now, "published_at": when or now, **fields}
    post = Post.objects.create(location=location, post_id=post_id, status=status, tag_ids=tag_ids, summary=summary,
                               last_seen_at=now, **fields)
    TagPost.objects.bulk_create([TagPost.of(post, t) for t in tag_ids])
    versions_move(location.pk, TAGS)
    return post


def event_make(location: Location, tag: Tag, kind: str, *, when: datetime | None = None, **payload) -> Event:
    return Event.objects.create(type=kind, occurred_at=when or timezone.now(), location=location,
                                subject_id=tag.tag_id, payload={"tag_id": tag.tag_id, "name": tag.name, **payload})
