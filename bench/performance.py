"""How fast are the tag performance pages? Server time and query counts, in process.

    .venv/bin/python bench/performance.py            # a location of 20,000 posts over 2,000 tags;
                                                     # an agency of 200 locations (100 posts, 40 tags each)
    .venv/bin/python bench/performance.py --quick    # 5,000 posts over 500 tags; 50 locations

A throwaway SQLite file holds the rows (made directly, as the tests' factories do), posts spread over the last
365 days on seven platforms, one to three tags each, insights on the four platforms HighLevel reports them for.
Each request goes through Django's test client (middleware, view, template or JSON) and is timed; p50/p95.
Query counts are compared between a small and the big location: they must be equal. Asserts nothing.

Targets: scorecard p95 <= 100 ms, campaign list p95 <= 150 ms, heatmap p95 <= 100 ms, constant query counts.
The scorecard's and the campaigns' sums are kept per process until a sync writes
(dashboard/selectors/performance_memo.py); their first view after a sync, when everything is summed again, is
printed on its own lines, and so is the campaign list's after one location's sync (only that location's part
is summed again).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import timedelta

from common import setup_django
from pages import measure, show

PLATFORMS = ("facebook", "instagram", "linkedin", "youtube", "google", "tiktok", "pinterest")
INSIGHTS = {"facebook", "instagram", "linkedin", "youtube"}
CAMPAIGN_WORDS = ["spring", "summer", "autumn", "winter", "promo", "sale", "launch", "event", "team", "recipe",
                  "tips", "news", "offer", "giveaway", "behind the scenes", "faq", "testimonial", "holiday"]


def plant(location, *, posts: int, tags: int, names: list[str], seed: int) -> None:
    """`tags` tags named from `names`, and `posts` posts over the last 365 days carrying one to three of them."""
    from django.utils import timezone

    from integrations.models import Post, Tag, TagPost

    rng = random.Random(seed)
    now = timezone.now()
    Tag.objects.bulk_create([Tag(location=location, tag_id=f"{location.location_id}-t{n}", name=names[n],
                                 sort_name=names[n].casefold(), raw={}, first_seen_at=now, last_seen_at=now)
                             for n in range(tags)], batch_size=2000)
    appeal = [rng.uniform(0.3, 2.5) for _ in range(tags)]
    rows, links = [], []
    for n in range(posts):
        platform = rng.choice(PLATFORMS)
        when = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
        status = rng.choices(("published", "failed", "scheduled"), (90, 6, 4))[0]
        carried = rng.sample(range(tags), rng.choice((1, 1, 2, 3)))
        base = 40 * max(appeal[t] for t in carried)
        likes = int(rng.uniform(0.3, 1.7) * base) if status == "published" and platform in INSIGHTS else None
        rows.append(Post(location=location, post_id=f"{location.location_id}-p{n}", status=status, platform=platform,
                         account_id=f"{location.location_id}-{platform}", published_at=when if status == "published"
                         else None, display_date=when, likes=likes, comments=likes // 8 if likes else likes,
                         shares=likes // 20 if likes else likes, tag_ids=[f"t{t}" for t in carried],
                         last_seen_at=now, at=when))
        links.append([f"{location.location_id}-t{t}" for t in carried])
    made = Post.objects.bulk_create(rows, batch_size=2000)
    TagPost.objects.bulk_create([TagPost.of(post, tag_id)
                                 for post, tag_ids in zip(made, links, strict=True) for tag_id in tag_ids],
                                batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    posts, tags, agency = (5_000, 500, 50) if args.quick else (20_000, 2_000, 200)
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(os.path.join(tmp, "bench.sqlite3"))
        from django.conf import settings

        settings.ALLOWED_HOSTS, settings.MFA_REQUIRED, settings.DEBUG = ["*"], False, False
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.utils import timezone

        from dashboard.selectors.performance_memo import memo_clear
        from tests.dashboard.browsing_factories import location_make

        started = time.perf_counter()
        big = location_make("bench-big", "Big Bakery", tz="America/New_York")
        plant(big, posts=posts, tags=tags, names=[f"{CAMPAIGN_WORDS[n % 18]} {n:05d}" for n in range(tags)], seed=1)
        small = location_make("bench-small", "Small Bakery", tz="Europe/Paris")
        plant(small, posts=200, tags=20, names=[f"{CAMPAIGN_WORDS[n % 18]} small {n}" for n in range(20)], seed=2)
        for n in range(agency - 2):
            loc = location_make(f"bench-agency-{n:03d}", f"Agency client {n:03d}", tz="Europe/London")
            rng = random.Random(n)
            names = [rng.choice((w.title(), w.upper(), w)) for w in CAMPAIGN_WORDS] + [
                f"local {n} {k}" for k in range(40 - len(CAMPAIGN_WORDS))]
            plant(loc, posts=100, tags=40, names=names, seed=100 + n)
            agency_location = loc
        user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-123")
        print(f"made one location of {posts:,} posts over {tags:,} tags and {agency} locations in all "
              f"in {time.perf_counter() - started:.1f} s (SQLite; the machine is shared, figures vary)")
        client = Client()
        client.force_login(user)
        today = timezone.now().date()
        first, last = (today - timedelta(days=370)).isoformat(), (today + timedelta(days=1)).isoformat()

        def after_sync(what: str, url: str) -> None:
            cold = []
            for _ in range(max(3, args.runs // 4)):
                memo_clear()  # as after a sync that wrote something: the sums are computed again
                started = time.perf_counter()
                assert client.get(url).status_code == 200
                cold.append((time.perf_counter() - started) * 1000)
            cold.sort()
            print(f"  {what} right after a sync (summed again): p50 {cold[len(cold) // 2]:.1f} ms, "
                  f"max {cold[-1]:.1f} ms")

        def after_one_location(what: str, url: str, location) -> None:
            """As after one location's sync wrote a post: that location's part is summed again, not the others."""
            from integrations.models import Post, TagPost

            cold = []
            for n in range(max(3, args.runs // 4)):
                post = Post.objects.create(location=location, post_id=f"{location.location_id}-synced-{n}",
                                           status="published", platform="facebook", account_id="fb",
                                           published_at=timezone.now(), display_date=timezone.now(), likes=5,
                                           comments=1, shares=0, tag_ids=["t1"], last_seen_at=timezone.now(),
                                           at=timezone.now())
                TagPost.of(post, f"{location.location_id}-t1").save()
                started = time.perf_counter()
                assert client.get(url).status_code == 200
                cold.append((time.perf_counter() - started) * 1000)
            cold.sort()
            print(f"  {what} right after one location's sync: p50 {cold[len(cold) // 2]:.1f} ms, max {cold[-1]:.1f} ms")

        def scorecard_urls(location_id: str) -> list[str]:
            page = f"/locations/{location_id}/tags/performance/"
            api = f"/api/v1/locations/{location_id}/tags/performance/"
            return [f"{page}?range=90d", f"{page}?range=custom&start={first}&end={last}&sort=-lift_pct",
                    f"{page}?range=30d&platform=instagram&sort=name&page=2", f"{page}?range=90d&q=sale",
                    f"{api}?range=90d", f"{api}?start={first}&end={last}&sort=-median_engagement&page=3"]

        def heatmap_urls(location_id: str) -> list[str]:
            page = f"/locations/{location_id}/best-time/"
            return [f"{page}?range=90d", f"{page}?start={first}&end={last}",
                    f"{page}?range=90d&platform=facebook", f"{page}?range=90d&tag={location_id}-t3"]

        campaign_urls = ["/campaigns/?range=90d", "/campaigns/?range=30d&sort=-lift_pct&shared=1",
                         "/api/v1/campaigns/?range=90d", f"/campaigns/?start={first}&end={last}&q=sale"]
        detail_urls = ["/campaigns/sale/?range=90d", "/api/v1/campaigns/summer/?range=90d"]
        print(f"\nOne location: {posts:,} posts over {tags:,} tags (90 days, all time, platform, search, API)")
        card = measure(client, scorecard_urls(big.location_id), args.runs)
        show("scorecard /locations/<id>/tags/performance/", card, "p95 <= 100 ms")
        after_sync("scorecard, 90 days", scorecard_urls(big.location_id)[0])
        after_sync("scorecard, all time", scorecard_urls(big.location_id)[1])
        heat = measure(client, heatmap_urls(big.location_id), args.runs)
        show("heatmap /locations/<id>/best-time/", heat, "p95 <= 100 ms")
        show("tag page with its performance", measure(client, [f"/locations/{big.location_id}/tags/"
                                                               f"{big.location_id}-t3/"], max(3, args.runs // 4)))
        print(f"\nAgency: {agency} locations ({posts + 200 + (agency - 2) * 100:,} posts in all)")
        camp = measure(client, campaign_urls, args.runs)
        show("campaign list /campaigns/", camp, "p95 <= 150 ms")
        after_sync("campaign list", campaign_urls[0])
        after_one_location("campaign list", campaign_urls[0], agency_location)
        show("campaign page /campaigns/<slug>/", measure(client, detail_urls, args.runs), "p95 <= 150 ms")
        print("\nQuery counts, small location (200 posts, 20 tags) against the big one:")
        small_card = measure(client, scorecard_urls(small.location_id), 2)
        small_heat = measure(client, heatmap_urls(small.location_id), 2)
        same = small_card["queries"] == card["queries"] and small_heat["queries"] == heat["queries"]
        print(f"  scorecard {small_card['queries']} vs {card['queries']}, heatmap {small_heat['queries']} vs "
              f"{heat['queries']}")
        print(f"query counts constant: {'yes' if same else 'no'}  target yes")


if __name__ == "__main__":
    main()
