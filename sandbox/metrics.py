"""Daily numbers per social profile: growth, weekly seasonality and seeded noise, as pure functions of
(seed, profile, day) so any range, however far the clock moves, is computed on demand."""

from __future__ import annotations

import math
from functools import lru_cache

from .data import POST_HORIZON_DAYS, day_posts
from .ids import rng_for
from .names import UNREPORTED

_WEEKLY = (1.0, 1.06, 1.12, 1.08, 1.0, 0.82, 0.76)  # Monday first
AGE_BUCKETS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")


@lru_cache(maxsize=4096)
def profile_traits(seed: int, profile_id: str) -> dict:
    rng = rng_for(seed, "profile", profile_id)
    ages = [rng.random() ** 2 for _ in AGE_BUCKETS]
    ages[2] += 0.6
    ages[3] += 0.4
    return {
        "followers": math.exp(rng.uniform(math.log(300), math.log(60_000))),
        "growth": rng.uniform(0.0004, 0.004),
        "reach_per_follower": rng.uniform(0.04, 0.35),
        "engagement": rng.uniform(0.01, 0.06),
        "male": rng.uniform(0.25, 0.6),
        "unknown": rng.uniform(0.02, 0.08),
        "ages": [a / sum(ages) for a in ages],
    }


@lru_cache(maxsize=200_000)
def day_metrics(seed: int, profile_id: str, platform: str, days: int, day: int, weekday: int) -> dict[str, int]:
    """All metrics of one profile on one day (day is relative to the anchor day; history starts at -days).
    Metrics the platform does not report are absent."""
    if day < -days:
        values = dict.fromkeys(("posts", "impressions", "reach", "likes", "comments", "shares", "followers"), 0)
    else:
        traits = profile_traits(seed, profile_id)
        rng = rng_for(seed, "day", profile_id, day)
        age = day + days
        followers = int(traits["followers"] * (1 + traits["growth"]) ** age) + rng.randint(0, 3)
        posts = 0
        if day <= POST_HORIZON_DAYS:
            posts = sum(1 for p in day_posts(seed, profile_id, day) if p[0] == "published")
        season = _WEEKLY[weekday] * rng.uniform(0.78, 1.22)
        impressions = int(followers * traits["reach_per_follower"] * season * (1 + 0.7 * posts)) + rng.randint(0, 9)
        reach = int(impressions * rng.uniform(0.55, 0.82))
        likes = int(impressions * traits["engagement"] * rng.uniform(0.8, 1.2))
        values = {
            "posts": posts, "impressions": impressions, "reach": reach, "likes": likes,
            "comments": int(likes * rng.uniform(0.04, 0.16)), "shares": int(likes * rng.uniform(0.02, 0.1)),
            "followers": followers,
        }
    for metric in UNREPORTED.get(platform, ()):
        values.pop(metric, None)
    return values
