"""What the tag page's performance section shows: the tag's scorecard row, its weekly series, best and
weakest posts and their growth (tag_performance.py), for the range in the query string (90 days by default)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from dashboard.params import Params
from dashboard.selectors.campaigns import campaign_aliases, campaign_slug
from dashboard.selectors.performance import DEFAULT_SORT, SORTS, tag_scorecard
from dashboard.selectors.performance_params import performance_query
from dashboard.selectors.performance_sums import INSIGHTS_NOTE
from dashboard.selectors.statistics_range import PRESETS
from dashboard.selectors.tag_performance import tag_performance
from integrations.models import Location, PostInsightSnapshot, Tag


def tag_performance_context(request: HttpRequest, location: Location, tag: Tag) -> dict[str, Any]:
    query = performance_query(Params(request.GET, strict=False), location=location, sorts=SORTS,
                              default_sort=DEFAULT_SORT)
    card = tag_scorecard(location=location, start=query.start, end=query.end, tag_ids=[tag.tag_id])
    score = card.rows[0] if card.rows else None
    perf = tag_performance(location=location, tag_id=tag.tag_id, start=query.start, end=query.end)
    own = campaign_slug(tag.name)
    return {
        "perf_query": query, "presets": PRESETS, "score": score, "perf": perf,
        "perf_chart": {"weeks": perf["weeks"], "growth": perf["growth"]},
        "post_groups": [("Best posts", perf["best"], "best-posts"), ("Weakest posts", perf["worst"], "worst-posts")],
        "campaign_slug": campaign_aliases().get(own, own), "insights_note": INSIGHTS_NOTE,
        "snapshot_days": PostInsightSnapshot.SNAPSHOT_DAYS,
    }
