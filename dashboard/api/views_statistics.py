"""The statistics API: one location's series (design.md), and the same summed over every visible location."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from dashboard import roles
from dashboard.api.base import api_params, api_view
from dashboard.api.views import wants_csv
from dashboard.selectors.locations import location_for, locations_visible
from dashboard.selectors.statistics import METRICS, demographics_for, statistics_csv_rows, statistics_for
from dashboard.selectors.statistics import locations_ranked as rank
from dashboard.selectors.statistics_range import StatsQuery, accounts_of, location_today, stats_query_from
from dashboard.views.exports import csv_response
from integrations.models import Location


def statistics_payload(*, locations: list[Location], query: StatsQuery, timezone_name: str) -> dict[str, Any]:
    """The API's answer; the pages embed the same thing for their first paint."""
    pks = [loc.pk for loc in locations]
    data = statistics_for(location_pks=pks, query=query)
    previous_start, previous_end = query.previous
    return {
        "start": query.start.isoformat(), "end": query.end.isoformat(), "timezone": timezone_name,
        "range": query.preset, "platform": query.platform, "account": query.account, "compare": query.compare,
        "previous_start": previous_start.isoformat() if query.compare else None,
        "previous_end": previous_end.isoformat() if query.compare else None,
        "metrics": data["metrics"], "platforms": data["platforms"],
        "demographics": demographics_for(location_pks=pks, query=query),
    }


def agency_timezone(locations: list[Location]) -> str:
    zones = sorted({loc.timezone for loc in locations})
    return zones[0] if len(zones) == 1 else "each location's own time zone"


def _query(request: HttpRequest, locations: list[Location], today) -> StatsQuery:
    return stats_query_from(api_params(request), today=today, accounts=accounts_of([loc.pk for loc in locations]))


def _answer(request: HttpRequest, payload: dict[str, Any], filename: str) -> HttpResponse:
    if wants_csv(request):
        return csv_response(statistics_csv_rows(payload), filename=filename)
    return JsonResponse(payload)


@api_view(roles.BROWSE)
def location_statistics(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    query = _query(request, [location], location_today(location))
    payload = statistics_payload(locations=[location], query=query, timezone_name=location.timezone)
    return _answer(request, payload, f"statistics-{location.location_id}-{query.start}-{query.end}.csv")


@api_view(roles.BROWSE)
def agency_statistics(request: HttpRequest) -> HttpResponse:
    """Every visible location summed; `rank=<metric>` adds the locations ranked by that metric."""
    locations = list(locations_visible(request.user).order_by("name", "pk"))
    query = _query(request, locations, location_today(None))
    payload = statistics_payload(locations=locations, query=query, timezone_name=agency_timezone(locations))
    metric = api_params(request).choice("rank", METRICS, default="")
    if metric:
        payload["ranking"] = ranking_dicts(locations, query, metric)
    return _answer(request, payload, f"statistics-all-{query.start}-{query.end}.csv")


def ranking_dicts(locations: list[Location], query: StatsQuery, metric: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "location"}
            for row in rank(locations=locations, query=query, metric=metric)]
