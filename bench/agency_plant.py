"""An agency's rows planted directly, as its sync would have left them, for timing the agency pages without
the 200-location sync (bench/agency.py --pages-only): locations with a connection, tags and posts carrying
them (bench/performance.py's `plant`), every day's all-accounts statistics per platform and metric, the tag
counts the sync stores, and the rollups rebuilt from the points (tests/integrations/test_agency_rollup.py
proves the rebuild equals what the sync's writes keep)."""

from __future__ import annotations

import random
import time
from datetime import timedelta

PLATFORMS = ("facebook", "instagram", "linkedin", "google", "tiktok", "youtube", "pinterest")
PER_PLATFORM = ("posts", "impressions", "reach", "likes", "comments", "shares", "followers")
ALL_PLATFORM_METRICS = ("posts",)  # the sync's platform '' rows (answer_series: posts by platform summed)


def statistics_plant(location, *, days: int, seed: int) -> int:
    """`days` days up to today of every platform's metrics (followers growing) and the all-platform posts."""
    from django.utils import timezone

    from integrations.bulk import rows_insert
    from integrations.models import StatisticsPoint

    rng = random.Random(seed)
    now = timezone.now()
    today = now.date()
    rows = []
    for platform in PLATFORMS:
        followers = rng.randint(100, 50_000)
        scale = rng.uniform(0.2, 3.0)
        for n in range(days - 1, -1, -1):
            day = today - timedelta(days=n)
            followers += rng.randint(-5, 30)
            for metric in PER_PLATFORM:
                value = float(followers) if metric == "followers" else float(int(rng.uniform(0, 400) * scale))
                rows.append((location.pk, "", platform, metric, day, value, now))
    for n in range(days):
        day = today - timedelta(days=n)
        rows += [(location.pk, "", "", metric, day, float(rng.randint(0, 12)), now) for metric in ALL_PLATFORM_METRICS]
    rows_insert(StatisticsPoint, ("location", "profile_id", "platform", "metric", "day", "value", "fetched_at"), rows)
    return len(rows)


def agency_plant(*, locations: int, tags: int, posts: int, days: int) -> None:
    from django.db import transaction
    from performance import CAMPAIGN_WORDS, plant

    from integrations.models import Location
    from integrations.sync.agency_rollup import rollups_rebuild
    from integrations.tag_counts import tag_counts_store
    from tests.dashboard.browsing_factories import location_make

    started = time.perf_counter()
    points = 0
    zones = ("America/New_York", "Europe/London", "Australia/Sydney", "America/Los_Angeles", "UTC")
    for n in range(locations):
        with transaction.atomic():
            loc = location_make(f"plant-{n:04d}", f"Agency client {n:04d}", tz=zones[n % len(zones)])
            names = [f"{CAMPAIGN_WORDS[k % len(CAMPAIGN_WORDS)]} {n} {k}" for k in range(tags)]
            plant(loc, posts=posts, tags=tags, names=names, seed=n)
            points += statistics_plant(loc, days=days, seed=n)
            tag_counts_store(loc)
        if (n + 1) % 50 == 0:
            print(f"  planted {n + 1} locations ({time.perf_counter() - started:.0f} s)", flush=True)
    rebuilt = time.perf_counter()
    rollups_rebuild()
    print(f"planted {locations} locations x {tags:,} tags, {posts} posts, {days} days of statistics "
          f"({points:,} points) in {rebuilt - started:.0f} s; rollups rebuilt in {time.perf_counter() - rebuilt:.1f} s;"
          f" {Location.objects.count()} locations", flush=True)
