"""What a report reads from the mirror besides the statistics selector: metrics counted from published
posts (a campaign's), its best and worst posts, and the tag scorecard.

A post belongs to the day of its `published_at` in its location's time zone; likes, comments and shares are
HighLevel's post insights, None ("not available") when HighLevel has not given them. The scorecard here is
a small stand-in with the same figures as issue 20's tag performance selector (posts, engagement,
engagement per post against the previous period); reports switch to that selector when it lands."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dashboard.reports.periods import zone
from dashboard.selectors.statistics import metric_summary
from dashboard.selectors.statistics_range import StatsQuery
from integrations.metrics import percent_change
from integrations.models import Location, Post, Tag, TagPost

POST_METRICS = ("posts", "engagement", "likes", "comments", "shares")
PUBLISHED = "published"
TOP_N = 5


def _utc_bounds(locations: list[Location], first: date, last: date) -> tuple[datetime, datetime]:
    """A UTC window wide enough for every location's local days (filtered exactly per post after)."""
    return (datetime.combine(first, time.min, tzinfo=UTC) - timedelta(days=1),
            datetime.combine(last, time.max, tzinfo=UTC) + timedelta(days=1))


def _published_posts(locations: list[Location], first: date, last: date, tag_ids: dict[int, list[str]] | None):
    """(post, local day) of published posts in [first, last] of the locations (and, for a campaign, tags)."""
    if not locations:
        return
    zones = {loc.pk: zone(loc.timezone) for loc in locations}
    low, high = _utc_bounds(locations, first, last)
    posts = Post.objects.filter(location_id__in=list(zones), status=PUBLISHED, published_at__gte=low,
                                published_at__lte=high)
    if tag_ids is not None:
        wanted = {(pk, t) for pk, ids in tag_ids.items() for t in ids}
        links = TagPost.objects.filter(location_id__in=list(tag_ids), tag_id__in={t for _, t in wanted})
        post_pks = {pk for loc, t, pk in links.values_list("location_id", "tag_id", "post_id") if (loc, t) in wanted}
        posts = posts.filter(pk__in=post_pks)
    for post in posts.order_by("published_at", "pk").iterator(chunk_size=2000):
        day = post.published_at.astimezone(zones[post.location_id]).date()
        if first <= day <= last:
            yield post, day


def post_metrics(*, locations: list[Location], query: StatsQuery,
                 tag_ids: dict[int, list[str]] | None) -> dict[str, Any]:
    """The statistics selector's shape (metric -> total, change, series, by_platform) counted from posts."""
    first = query.previous[0] if query.compare else query.start
    grid: dict[str, dict[str, dict[date, float | None]]] = {m: defaultdict(dict) for m in POST_METRICS}
    for post, day in _published_posts(locations, first, query.end, tag_ids):
        platform = post.platform or "other"
        values = {"posts": 1, "likes": post.likes, "comments": post.comments, "shares": post.shares,
                  "engagement": post.engagement}
        for metric, value in values.items():
            if value is None:
                continue
            cell = grid[metric][platform]
            cell[day] = (cell.get(day) or 0) + value
    metrics = {m: metric_summary(m, grid[m], query) for m in POST_METRICS if grid[m]}
    return {"metrics": metrics, "platforms": sorted({p for m in metrics.values() for p in m["by_platform"]})}


def _post_row(post: Post, names: dict[int, str]) -> dict[str, Any]:
    return {"id": post.post_id, "platform": post.platform_label, "summary": (post.summary or "")[:280],
            "published_at": post.published_at.isoformat() if post.published_at else None,
            "location": names.get(post.location_id, ""), "likes": post.likes, "comments": post.comments,
            "shares": post.shares, "engagement": post.engagement}


def top_and_bottom_posts(*, locations: list[Location], query: StatsQuery,
                         tag_ids: dict[int, list[str]] | None) -> dict[str, Any]:
    """The best and worst published posts of the period by engagement (likes + comments + shares), among
    those with insights; posts without insights are counted, not ranked."""
    names = {loc.pk: loc.name for loc in locations}
    ranked, published = [], 0
    for post, _day in _published_posts(locations, query.start, query.end, tag_ids):
        published += 1
        if post.engagement is not None:
            ranked.append(post)
    ranked.sort(key=lambda p: (-p.engagement, p.published_at, p.pk))
    top = ranked[:TOP_N]
    bottom = [p for p in reversed(ranked[TOP_N:])][:TOP_N]
    return {"published": published, "with_insights": len(ranked), "top": [_post_row(p, names) for p in top],
            "bottom": [_post_row(p, names) for p in bottom]}


def _scores(rows: dict[Any, dict[str, int]], key: Any) -> dict[str, Any]:
    now, before = rows.get(("now", key), {}), rows.get(("before", key), {})
    per_post = round(now["engagement"] / now["measured"], 1) if now.get("measured") else None
    before_per_post = round(before["engagement"] / before["measured"], 1) if before.get("measured") else None
    return {"posts": now.get("posts", 0), "engagement": now.get("engagement", 0) if now.get("measured") else None,
            "engagement_per_post": per_post, "previous_engagement_per_post": before_per_post,
            "change_pct": percent_change(per_post, before_per_post)}


def tag_scorecard(*, locations: list[Location], query: StatsQuery,
                  tag_ids: dict[int, list[str]] | None) -> dict[str, Any]:
    """A location report: one row per tag of the location. A campaign report: one row per location (the
    campaign's tags there). Posts, engagement, engagement per measured post and its change."""
    campaign = tag_ids is not None
    rows: dict[Any, dict[str, int]] = defaultdict(lambda: {"posts": 0, "engagement": 0, "measured": 0})
    links: dict[int, list[str]] = defaultdict(list)
    first = query.previous[0]
    if not campaign:
        for post_pk, tag_id in TagPost.objects.filter(location_id__in=[loc.pk for loc in locations]).values_list(
                "post_id", "tag_id"):
            links[post_pk].append(tag_id)
    for post, day in _published_posts(locations, first, query.end, tag_ids):
        when = "now" if day >= query.start else "before"
        keys = [post.location_id] if campaign else links.get(post.pk, [])
        for key in keys:
            row = rows[(when, key)]
            row["posts"] += 1
            if post.engagement is not None:
                row["engagement"] += post.engagement
                row["measured"] += 1
    if campaign:
        out = [{"name": loc.name, **_scores(rows, loc.pk)} for loc in locations]
    else:
        names = dict(Tag.objects.filter(location_id__in=[loc.pk for loc in locations])
                     .values_list("tag_id", "name"))
        seen = {key for _, key in rows}
        out = [{"name": names.get(tag_id, tag_id), **_scores(rows, tag_id)} for tag_id in seen]
        out = [row for row in out if row["posts"]]
    out.sort(key=lambda r: (r["engagement"] is None, -(r["engagement"] or 0), -r["posts"], r["name"].casefold()))
    return {"by": "location" if campaign else "tag", "rows": out}
