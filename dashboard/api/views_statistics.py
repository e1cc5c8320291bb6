"""The statistics API: one location's series (README.md, "Browsing and the JSON API"), and the same summed over
every visible location. The payload comes from dashboard/selectors/statistics_payload.py, as the pages'."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from dashboard import roles
from dashboard.api.base import api_params, api_view
from dashboard.api.views import wants_csv
from dashboard.exports import csv_response
from dashboard.selectors.locations import location_for, locations_visible
from dashboard.selectors.statistics import statistics_csv_rows
from dashboard.selectors.statistics_payload import KeptPayload, agency_timezone, ranking_dicts, statistics_kept
from dashboard.selectors.statistics_range import StatsQuery, accounts_of, location_today, stats_query_from
from integrations.metrics import METRICS
from integrations.models import Location


def _query(request: HttpRequest, locations: list[Location], today) -> StatsQuery:
    return stats_query_from(api_params(request), today=today, accounts=accounts_of([loc.pk for loc in locations]))


def _answer(request: HttpRequest, kept: KeptPayload, filename: str, **members: Any) -> HttpResponse:
    """The payload as JSON (with `members` added), or its daily rows as CSV."""
    if wants_csv(request):
        return csv_response(statistics_csv_rows(kept.payload()), filename=filename)
    return HttpResponse(kept.json_with(**members), content_type="application/json")


@api_view(roles.BROWSE)
def location_statistics(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    query = _query(request, [location], location_today(location))
    kept = statistics_kept(locations=[location], query=query, timezone_name=location.timezone)
    return _answer(request, kept, f"statistics-{location.location_id}-{query.start}-{query.end}.csv")


@api_view(roles.BROWSE)
def agency_statistics(request: HttpRequest) -> HttpResponse:
    """Every visible location summed; `rank=<metric>` adds the locations ranked by that metric."""
    locations = list(locations_visible(request.user).order_by("name", "pk"))
    query = _query(request, locations, location_today(None))
    kept = statistics_kept(locations=locations, query=query, timezone_name=agency_timezone(locations))
    metric = api_params(request).choice("rank", METRICS, default="")
    ranking = {"ranking": ranking_dicts(locations, query, metric)} if metric else {}
    return _answer(request, kept, f"statistics-all-{query.start}-{query.end}.csv", **ranking)

