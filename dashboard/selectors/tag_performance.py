"""A tag's performance on its own page: posts per week and engagement per post over time, its best and worst
posts, and each of those posts' growth over its first 30 days from the daily insight snapshots."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, timedelta
from typing import Any

from dashboard.selectors.performance_sums import (
    PUBLISHED,
    Window,
    between_q,
    location_zone,
    per_post,
)
from integrations.models import Location, Post, PostInsightSnapshot

GROWTH_DAYS = 30
BEST_COUNT = 5


def tag_performance(*, location: Location, tag_id: str, start: date, end: date) -> dict[str, Any]:
    """Weekly series (weeks start on Monday, local days), best and worst posts with insights, and their
    growth: two queries."""
    zone = location_zone(location)
    window = Window(start, end, zone)
    posts = list(Post.objects.filter(location=location, tag_links__tag_id=tag_id)
                 .filter(between_q("", window.lo, window.hi)).filter(status=PUBLISHED)
                 .only("post_id", "platform", "summary", "thumbnail", "published_at", "likes", "comments", "shares",
                       "post_type", "status").order_by("published_at"))
    weeks: dict[date, dict[str, int]] = defaultdict(lambda: {"posts": 0, "covered": 0, "engagement": 0})
    first_monday = start - timedelta(days=start.weekday())
    monday = first_monday
    while monday <= end:
        weeks[monday]  # every week of the range is shown, empty or not
        monday += timedelta(days=7)
    for post in posts:
        local = post.published_at.astimezone(zone).date()
        week = weeks[local - timedelta(days=local.weekday())]
        week["posts"] += 1
        if post.has_insights:
            week["covered"] += 1
            week["engagement"] += post.engagement
    series = [{"week": monday.isoformat(), "posts": w["posts"], "covered": w["covered"],
               "engagement_per_post": per_post(w["engagement"], w["covered"])} for monday, w in sorted(weeks.items())]
    covered = sorted((p for p in posts if p.has_insights), key=lambda p: (-p.engagement, p.post_id))
    best = covered[:BEST_COUNT]
    worst = list(reversed(covered[BEST_COUNT:][-BEST_COUNT:])) if len(covered) > BEST_COUNT else []
    return {"weeks": series, "best": best, "worst": worst, "posts": len(posts), "covered": len(covered),
            "growth": post_growth(posts=best + worst)}


def post_growth(*, posts: list[Post]) -> list[dict[str, Any]]:
    """Per post, engagement by day since publication (day 0 = its publication day) up to GROWTH_DAYS, from
    the daily snapshots; a day without a snapshot carries the previous reading forward. One query."""
    by_post: dict[int, list[PostInsightSnapshot]] = defaultdict(list)
    for snap in PostInsightSnapshot.objects.filter(post__in=posts).order_by("post_id", "day"):
        by_post[snap.post_id].append(snap)
    lines = []
    for post in posts:
        # Snapshots are taken per UTC day, so day 0 is the UTC day of publication.
        first_day = post.published_at.astimezone(UTC).date() if post.published_at else None
        points, last = [], None
        snaps = {s.day: s for s in by_post.get(post.pk, [])}
        if first_day is None or not snaps:
            continue
        newest = max(snaps)
        for n in range(GROWTH_DAYS + 1):
            day = first_day + timedelta(days=n)
            if day > newest:
                break
            snap = snaps.get(day)
            if snap is not None:
                last = (snap.likes or 0) + (snap.comments or 0) + (snap.shares or 0)
            points.append({"day": n, "engagement": last})
        lines.append({"post_id": post.post_id, "label": f"{post.platform_label} {post.published_at:%Y-%m-%d}",
                      "points": points})
    return lines
