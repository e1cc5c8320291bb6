"""Daily numbers per social profile: growth, weekly seasonality and seeded noise, as pure functions of
(seed, profile, day) so any range, however far the clock moves, is computed on demand.

They read like a small business's: an audience of a few hundred to a few thousand that grows by a few
followers a day (never shrinking), 0 to 3 posts a day (data.day_posts), impressions a fraction of the
audience, reach at most impressions, and likes, comments and shares a few percent of reach."""

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
    followers = math.exp(rng.uniform(math.log(250), math.log(5_000)))
    return {
        "followers": followers,
        # New followers a day, on average: 0.05% to 0.25% of the audience (2% to 8% a month), 0.6 to 4 a day,
        # so a baseline of four weeks is not outgrown by the time it is compared.
        "growth": min(4.0, max(0.6, followers * rng.uniform(0.0005, 0.0025))),
        "phase": rng.uniform(0, 2 * math.pi),
        "reach_per_follower": rng.uniform(0.08, 0.35),
        "engagement": rng.uniform(0.015, 0.05),  # likes as a share of reach
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
        followers = _followers(traits, age)
        posts = _published(seed, profile_id, day)
        # A post is seen over several days, and an established page is seen without new posts too: the day's
        # posts lift it, yesterday's and the day before's a little less. Day-to-day noise is about +-8%.
        lift = (0.06 * posts + 0.03 * _published(seed, profile_id, day - 1)
                + 0.015 * _published(seed, profile_id, day - 2))
        season = _WEEKLY[weekday] * rng.uniform(0.92, 1.08)
        impressions = int(followers * traits["reach_per_follower"] * season * (1 + lift)) + rng.randint(0, 5)
        reach = int(impressions * rng.uniform(0.62, 0.74))
        likes = int(reach * traits["engagement"] * rng.uniform(0.9, 1.1))
        values = {
            "posts": posts, "impressions": impressions, "reach": reach, "likes": likes,
            # One comment per 5 to 12 likes, one share per 8 to 25, drawn like/by/like (likes are a few dozen).
            "comments": _share_of(rng, likes, rng.uniform(0.08, 0.2)),
            "shares": _share_of(rng, likes, rng.uniform(0.04, 0.12)),
            "followers": followers,
        }
    for metric in UNREPORTED.get(platform, ()):
        values.pop(metric, None)
    return values


@lru_cache(maxsize=4096)  # a day's count is asked again for the next two days' lift: a short memory is enough
def _published(seed: int, profile_id: str, day: int) -> int:
    if day > POST_HORIZON_DAYS:
        return 0
    return sum(1 for p in day_posts(seed, profile_id, day) if p[0] == "published")


def _followers(traits: dict, age: int) -> int:
    """The audience on the age-th day of history: a steady gain with a slow wobble whose slope (at most 0.3 a
    day) is less than the smallest gain, so the count never goes down."""
    return int(traits["followers"] + traits["growth"] * age + 1.2 * math.sin(age / 4 + traits["phase"]))


def _share_of(rng, count: int, rate: float) -> int:
    return sum(1 for _ in range(count) if rng.random() < rate)
