"""Statistics pages: one location's, and every visible location's summed with a ranking. The first paint
is rendered from the same payload the API answers (embedded with json_script); the page's script then
fetches the API as the controls change."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from dashboard.params import Params
from dashboard.roles import BROWSE, requires
from dashboard.selectors.goals import attention_items, goals_pacing
from dashboard.selectors.locations import location_for, locations_visible
from dashboard.selectors.statistics import (
    GAUGES,
    METRIC_LABELS,
    locations_on_seven_days,
    statistics_history,
    statistics_tables,
)
from dashboard.selectors.statistics_payload import (
    KeptPayload,
    agency_timezone,
    ranking_dicts,
    script_safe,
    statistics_kept,
)
from dashboard.selectors.statistics_range import PRESETS, StatsQuery, accounts_of, location_today, stats_query_from
from integrations.metrics import METRICS
from integrations.models import Location, Post


def _context(request: HttpRequest, params: Params, kept: KeptPayload, query: StatsQuery, api_url: str,
             platforms: list[str], rank: str = "", **members: Any) -> dict[str, Any]:
    """The page's context: `payload` is the kept payload's summary with `members` (the ranking); the charts'
    daily series reach the page's script only as the kept JSON, in `config_script`."""
    view = params.choice("view", ("chart", "table"), default="chart")
    payload = {**kept.summary, **members}
    params.report(request)
    state = query.as_query()
    if rank:
        state["rank"] = rank
    toggled = {**state, "view": "table"} if view == "chart" else state
    config = {"api_url": api_url, "labels": METRIC_LABELS, "view": view, "gauges": sorted(GAUGES),
              # The server's spelling of every platform ("LinkedIn", "TikTok") for legends and tables.
              "platform_labels": {p: Post.label_of(p) for p in {*platforms, *payload.get("platforms", []),
                                                                *Post.PLATFORM_LABELS}},
              "location_url": reverse("location_statistics", args=["LOCATION_ID"])}
    # As json_script would write {**config, "initial": the payload}, the kept JSON spliced in unencoded.
    script = f'{{"initial": {kept.json_with(**members)}, {script_safe(json.dumps(config))[1:]}'
    return {
        "payload": payload, "query": query, "config": config,
        "config_script": mark_safe(f'<script id="stats-config" type="application/json">{script}</script>'),  # noqa: S308
        "presets": PRESETS, "metric_labels": METRIC_LABELS,
        # The daily tables are a year of rows per metric: rendered for the table view only (the page's script
        # builds them from the payload when a reader switches to it).
        "tables": statistics_tables(kept.payload()) if view == "table" else [],
        "platforms": platforms, "view": view, "gauges": sorted(GAUGES),
        "view_query": urlencode(toggled), "export_query": urlencode({**query.as_query(), "format": "csv"}),
    }


def _platforms(accounts: dict, payload: dict[str, Any]) -> list[str]:
    seen = {a.platform for a in accounts.values()} | set(payload["platforms"])
    return sorted(p for p in seen if p and p != "all")


@require_GET
@requires(BROWSE)
def location_statistics(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    accounts = accounts_of([location.pk])
    params = Params(request.GET, strict=False)
    query = stats_query_from(params, today=location_today(location), accounts=accounts, compare_default=True)
    kept = statistics_kept(locations=[location], query=query, timezone_name=location.timezone)
    context = _context(request, params, kept, query, reverse("api_statistics", args=[location.location_id]),
                       _platforms(accounts, kept.summary))
    context.update({"location": location, "accounts": list(accounts.values()),
                    "history": statistics_history(location=location),
                    "pacing": goals_pacing(location_pks=[location.pk]).get(location.pk, []),
                    "attention": attention_items(location_pks=[location.pk]).get(location.pk, [])})
    return render(request, "statistics/location.html", context)


@require_GET
@requires(BROWSE)
def agency_statistics(request: HttpRequest) -> HttpResponse:
    locations: list[Location] = list(locations_visible(request.user).order_by("name", "pk"))
    params = Params(request.GET, strict=False)
    query = stats_query_from(params, today=location_today(None), accounts={}, compare_default=True)
    rank = params.choice("rank", METRICS, default="impressions")
    kept = statistics_kept(locations=locations, query=query, timezone_name=agency_timezone(locations))
    context = _context(request, params, kept, query, reverse("api_agency_statistics"),
                       _platforms(accounts_of([loc.pk for loc in locations]), kept.summary),
                       rank=rank if params.raw("rank") else "", ranking=ranking_dicts(locations, query, rank))
    context.update({"locations": locations, "rank": rank, "metrics": METRICS,
                    "seven_days": locations_on_seven_days(locations=locations),
                    "last_synced": max((loc.last_synced_at for loc in locations if loc.last_synced_at), default=None)})
    return render(request, "statistics/agency.html", context)
