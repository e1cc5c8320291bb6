"""What the statistics pages and the statistics API both show: the payload (metrics, platforms,
demographics over a range and its comparison) and the ranking of locations by one metric. The pages embed
it for their first paint; the API answers it."""

from __future__ import annotations

from typing import Any

from dashboard.selectors.statistics import demographics_for, statistics_for
from dashboard.selectors.statistics import locations_ranked as rank
from dashboard.selectors.statistics_range import StatsQuery
from integrations.models import Location


def statistics_payload(*, locations: list[Location], query: StatsQuery, timezone_name: str) -> dict[str, Any]:
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


def ranking_dicts(locations: list[Location], query: StatsQuery, metric: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "location"}
            for row in rank(locations=locations, query=query, metric=metric)]
