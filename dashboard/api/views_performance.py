"""The tag performance API: a location's scorecards, campaigns and one campaign (docs/api.md), as JSON or
`?format=csv`. Figures come from the selectors the pages use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from dashboard import roles
from dashboard.api.base import api_params, api_view, page_params, paginated
from dashboard.api.views import wants_csv
from dashboard.exports import csv_response
from dashboard.selectors import campaigns as campaign_selectors
from dashboard.selectors import performance
from dashboard.selectors.locations import location_for, locations_visible
from dashboard.selectors.performance_params import PerformanceQuery, performance_query

CAMPAIGN_KEYS = ("slug", "name", "location_count", "posts", "published", "failed", "scheduled", "likes", "comments",
                 "shares", "engagement", "engagement_per_post", "lift_pct", "insight_coverage",
                 "previous_engagement_per_post", "change_pct")
CAMPAIGN_LOCATION_KEYS = ("location_id", "location_name", "posts", "published", "failed", "scheduled", "likes",
                          "comments", "shares", "engagement", "engagement_per_post", "lift_pct", "insight_coverage",
                          "previous_engagement_per_post", "change_pct")


def _query(request: HttpRequest, location, sorts: dict[str, str], default: str) -> PerformanceQuery:
    return performance_query(api_params(request), location=location, sorts=sorts, default_sort=default)


def _csv_rows(keys: tuple[str, ...], dicts) -> Iterator[list[Any]]:
    yield list(keys)
    for row in dicts:
        yield [";".join(row[k]) if isinstance(row[k], list) else row[k] for k in keys]


def _range(query: PerformanceQuery) -> dict[str, str]:
    return {"start": query.start.isoformat(), "end": query.end.isoformat()}


@api_view(roles.BROWSE)
def tag_performance(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    query = _query(request, location, performance.SORTS, performance.DEFAULT_SORT)
    csv = wants_csv(request)
    page, size = page_params(request)
    card = performance.tag_scorecard(
        location=location, start=query.start, end=query.end, platform=query.stats.platform,
        account=query.stats.account, q=query.q, sort=query.sort,
        medians=slice(None) if csv else slice((page - 1) * size, page * size))
    if csv:
        return csv_response(_csv_rows(performance.API_KEYS, (r.as_dict() for r in card.rows)),
                            filename=f"tag-performance-{location.location_id}-{query.start}-{query.end}.csv")
    answer = paginated(request, card.rows, performance.TagScore.as_dict, count=len(card.rows))
    return JsonResponse({**_range(query), "timezone": location.timezone, **answer})


@api_view(roles.BROWSE)
def campaigns(request: HttpRequest) -> HttpResponse:
    query = _query(request, None, campaign_selectors.SORTS, campaign_selectors.DEFAULT_SORT)
    rows = campaign_selectors.campaigns_list(locations=list(locations_visible(request.user)), start=query.start,
                                             end=query.end, q=query.q, sort=query.sort)
    if wants_csv(request):
        return csv_response(_csv_rows(CAMPAIGN_KEYS, (c.as_dict() for c in rows)),
                            filename=f"campaigns-{query.start}-{query.end}.csv")
    answer = paginated(request, rows, lambda c: c.as_dict(), count=len(rows))
    return JsonResponse({**_range(query), "timezone": "UTC", **answer})


@api_view(roles.BROWSE)
def campaign(request: HttpRequest, slug: str) -> HttpResponse:
    query = _query(request, None, {"": ""}, "")
    found = campaign_selectors.campaign_get(locations=list(locations_visible(request.user)), slug=slug,
                                            start=query.start, end=query.end)
    if wants_csv(request):
        return csv_response(_csv_rows(CAMPAIGN_LOCATION_KEYS, (r.as_dict() for r in found.ranked_locations())),
                            filename=f"campaign-{found.slug}-{query.start}-{query.end}.csv")
    return JsonResponse({**_range(query), "timezone": "UTC", **found.as_dict(with_locations=True)})
