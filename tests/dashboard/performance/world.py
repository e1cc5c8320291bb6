"""A believable agency for the performance browser test and screenshots: three locations running some of the
same campaigns, tags that differ in appeal, posts at hours that differ in appeal, daily insight snapshots."""

from __future__ import annotations

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from integrations.models import Post, PostInsightSnapshot, TagPost
from tests.dashboard.browsing_factories import location_make, tag_make

TAGS = {"Summer Sale": 2.2, "Behind the Scenes": 1.5, "Customer Stories": 1.3, "Weekly Tips": 1.0,
        "New Menu": 0.9, "Giveaway": 1.8, "Holiday Hours": 0.5, "Team Spotlight": 0.7, "Recipe": 1.1,
        "Flash Deal": 0.4}
PLATFORMS = ("facebook", "instagram", "linkedin", "google", "tiktok")
GOOD_HOURS = {9: 1.5, 10: 1.7, 11: 1.3, 18: 1.6, 19: 1.3}


def performance_world(seed: int = 5):
    rng = random.Random(seed)
    now = timezone.now()
    locations = []
    for location_id, name, tz, spelling in (("loc-acme", "Acme Bakery", "America/New_York", str),
                                            ("loc-bistro", "Bistro Central", "Europe/London", str.lower),
                                            ("loc-cafe", "Cafe Uno", "Europe/Rome", str.upper)):
        location = location_make(location_id, name, tz=tz)
        locations.append(location)
        tags = [tag_make(location, spelling(tag), tag_id=f"{location_id}-{n}") for n, tag in enumerate(TAGS)]
        appeal = {t.tag_id: TAGS[tag] * rng.uniform(0.8, 1.2) for t, tag in zip(tags, TAGS, strict=True)}
        posts, links = [], []
        for n in range(260):
            platform = rng.choice(PLATFORMS)
            hour = rng.choice((8, 9, 10, 11, 12, 13, 15, 17, 18, 19, 20))
            local = (now - timedelta(days=rng.randrange(0, 120))).astimezone(ZoneInfo(tz))
            when = local.replace(hour=hour, minute=rng.choice((0, 15, 30)))  # the hour people post at there
            status = rng.choices(("published", "failed", "scheduled"), (92, 5, 3))[0]
            carried = rng.sample([t.tag_id for t in tags], rng.choice((0, 1, 1, 2)))
            weight = max((appeal[t] for t in carried), default=1.0) * GOOD_HOURS.get(hour, 0.8)
            likes = (int(rng.uniform(8, 30) * weight) if status == "published" and platform != "google"
                     and platform != "tiktok" and rng.random() > 0.08 else None)
            posts.append(Post(location=location, post_id=f"{location_id}-post-{n}", status=status, platform=platform,
                              account_id=f"{location_id}-{platform}", tag_ids=carried, at=when, display_date=when,
                              published_at=when if status == "published" else None, likes=likes,
                              comments=likes // 6 if likes is not None else None,
                              shares=likes // 12 if likes is not None else None,
                              summary=rng.choice(("Fresh croissants all weekend", "Meet our new pastry chef",
                                                  "Our summer menu is here", "Three tips for a perfect latte",
                                                  "Thank you for 1,000 reviews!", "Win a breakfast for two")),
                              thumbnail="", error="Session has expired." if status == "failed" else "",
                              last_seen_at=now))
            links.append(carried)
        made = Post.objects.bulk_create(posts)
        TagPost.objects.bulk_create([TagPost.of(post, t) for post, tags_of in zip(made, links, strict=True)
                                     for t in tags_of])
        snaps = []
        for post in made:
            if post.likes is None or (now - post.published_at).days > 40:
                continue
            for day in range(min(31, (now - post.published_at).days + 1)):
                share = 1 - 0.75 ** (day + 1)
                snaps.append(PostInsightSnapshot(post=post, day=(post.published_at + timedelta(days=day)).date(),
                                                 likes=int(post.likes * share), comments=int(post.comments * share),
                                                 shares=int(post.shares * share), taken_at=now))
        PostInsightSnapshot.objects.bulk_create(snaps, ignore_conflicts=True)
    return locations
