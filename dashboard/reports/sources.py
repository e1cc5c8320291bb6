"""What a report reads from the mirror besides the statistics selector: metrics counted from published
posts (a campaign's), its best and worst posts, and the tag scorecard.

A post belongs to the day of its `published_at` in its location's time zone; likes, comments and shares are
HighLevel's post insights, None ("not available") when HighLevel has not given them. A location's
scorecard is issue 20's tag performance selector; a campaign's (one row per location) is counted here."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dashboard.reports.periods import zone
from dashboard.selectors.performance import tag_scorecard as performance_scorecard
from dashboard.selectors.statistics import metric_summary
from dashboard.selectors.statistics_range import StatsQuery
from integrations.metrics import percent_change
from integrations.models import Location, Post, TagPost

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


SCORECARD_KEYS = ("name", "posts", "engagement", "engagement_per_post", "previous_engagement_per_post",
                  "change_pct", "lift_pct")


def _location_scorecard(location: Location, query: StatsQuery) -> dict[str, Any]:
    """Issue 20's tag scorecard (dashboard/selectors/performance.py), the figures the tag performance page
    shows, best engagement per post first."""
    card = performance_scorecard(location=location, start=query.start, end=query.end, medians=None)
    rows = [{key: row[key] for key in SCORECARD_KEYS} for row in (score.as_dict() for score in card.rows)]
    return {"by": "tag", "rows": rows}


def tag_scorecard(*, locations: list[Location], query: StatsQuery, tag_ids: dict[int, list[str]] | None,
                  lifts: dict[int, float | None] | None = None) -> dict[str, Any]:
    """A location report: one row per tag of the location (issue 20's scorecard). A campaign report: one row
    per location (the campaign's tags there). Posts, engagement, engagement per measured post and its change,
    and lift: the scorecard's for a tag, `lifts` (location pk: issue 20's campaign lift there) for a campaign."""
    if tag_ids is None:
        return _location_scorecard(locations[0], query)
    rows: dict[Any, dict[str, int]] = defaultdict(lambda: {"posts": 0, "engagement": 0, "measured": 0})
    for post, day in _published_posts(locations, query.previous[0], query.end, tag_ids):
        row = rows[("now" if day >= query.start else "before", post.location_id)]
        row["posts"] += 1
        if post.engagement is not None:
            row["engagement"] += post.engagement
            row["measured"] += 1
    out = [{"name": loc.name, **_scores(rows, loc.pk), "lift_pct": (lifts or {}).get(loc.pk)} for loc in locations]
    out.sort(key=lambda r: (r["engagement"] is None, -(r["engagement"] or 0), -r["posts"], r["name"].casefold()))
    return {"by": "location", "rows": out}
