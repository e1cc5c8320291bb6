"""Best time to post: engagement per post by weekday and hour of publication, in the location's time zone.

One grouped query; the weekday and hour are extracted in SQL in the location's zone (PostgreSQL's AT TIME
ZONE; SQLite's strftime shifted by the zone's offsets, local_time.py). Only published posts with insights
count (performance_sums.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Sum

from dashboard.selectors.local_time import LocalHour, LocalIsoWeekday
from dashboard.selectors.performance_sums import (
    Window,
    between_q,
    covered_q,
    engagement_expression,
    location_zone,
    per_post,
    posts_filtered,
)
from integrations.models import Location, Post

MIN_SAMPLE = 3  # fewer posts than this in a cell: greyed, not ranked
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Cell:
    weekday: int  # 1 = Monday (ISO)
    hour: int
    posts: int
    engagement: int

    @property
    def per_post(self) -> float | None:
        return per_post(self.engagement, self.posts)

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday - 1] if self.weekday else "Any day"

    @property
    def enough(self) -> bool:
        return self.posts >= MIN_SAMPLE


@dataclass
class Heatmap:
    start: date
    end: date
    timezone: str
    rows: list[tuple[str, list[Cell]]]  # (weekday name, 24 cells)
    best: list[Cell]  # the best cells with enough posts, best first
    by_hour: list[Cell]  # every weekday summed, per hour
    posts: int

    @property
    def top(self) -> float:
        return max((c.per_post or 0 for _, cells in self.rows for c in cells if c.enough), default=0)

    def as_dict(self) -> dict[str, Any]:
        def cell(c: Cell) -> dict[str, Any]:
            return {"weekday": c.weekday, "hour": c.hour, "posts": c.posts, "engagement": c.engagement,
                    "engagement_per_post": c.per_post, "enough": c.enough}

        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "timezone": self.timezone,
                "min_sample": MIN_SAMPLE, "posts": self.posts,
                "cells": [cell(c) for _, cells in self.rows for c in cells],
                "best": [cell(c) for c in self.best]}


def best_time_heatmap(*, location: Location, start: date, end: date, platform: str = "", account: str = "",
                      tag_id: str = "") -> Heatmap:
    """Published posts with insights in the local days [start, end], by local weekday and hour."""
    zone = location_zone(location)
    window = Window(start, end, zone)
    posts = Post.objects.filter(location=location).filter(between_q("", window.lo, window.hi) & covered_q(""))
    posts = posts_filtered(posts, "", platform=platform, account=account)
    if tag_id:
        posts = posts.filter(tag_links__tag_id=tag_id)
    span = {"zone": zone, "lo": window.lo, "hi": window.hi}
    rows = (posts.annotate(weekday=LocalIsoWeekday("published_at", **span), hour=LocalHour("published_at", **span))
            .values("weekday", "hour").annotate(n=Count("pk"), e=Sum(engagement_expression())).order_by())
    found = {(r["weekday"], r["hour"]): (r["n"], r["e"] or 0) for r in rows}
    grid = [(name, [Cell(day, hour, *found.get((day, hour), (0, 0))) for hour in range(24)])
            for day, name in enumerate(WEEKDAYS, start=1)]
    by_hour = [Cell(0, hour, sum(cells[hour].posts for _, cells in grid),
                    sum(cells[hour].engagement for _, cells in grid)) for hour in range(24)]
    ranked = sorted((c for _, cells in grid for c in cells if c.enough), key=lambda c: (-c.per_post, c.weekday, c.hour))
    return Heatmap(start=start, end=end, timezone=str(zone), rows=grid, best=ranked[:3], by_hour=by_hour,
                   posts=sum(n for n, _ in found.values()))
