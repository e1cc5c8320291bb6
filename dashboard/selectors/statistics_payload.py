"""What the statistics pages and the statistics API both show: the payload (metrics, platforms,
demographics over a range and its comparison) and the ranking of locations by one metric. The pages embed
it for their first paint; the API answers it.

A year of an agency's payload is about 100,000 daily points (1 MB of JSON): it is kept per process as its
JSON, while the locations' statistics stay the same (performance_memo.py, keyed by their statistics
versions), so a second view neither reads the rollup nor builds and encodes the points again; the rankings
keep each location's totals the same way (statistics.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

from dashboard.selectors.performance_memo import memo_get
from dashboard.selectors.statistics import demographics_for, statistics_for
from dashboard.selectors.statistics import locations_ranked as rank
from dashboard.selectors.statistics_range import StatsQuery
from integrations.data_versions import STATISTICS
from integrations.models import Location

# What Django's json_script escapes, so that the JSON is safe inside a <script> element (and still JSON).
SCRIPT_ESCAPES = (("&", "\\u0026"), ("<", "\\u003C"), (">", "\\u003E"))
SERIES_KEYS = frozenset({"series", "previous_series", "by_platform"})


def script_safe(text: str) -> str:
    for char, escaped in SCRIPT_ESCAPES:
        text = text.replace(char, escaped)
    return text


@dataclass(frozen=True)
class KeptPayload:
    """A payload as kept: its JSON, fit for an HTTP body and a <script> element alike, and what the pages
    render from it besides the charts (the payload less its daily series). Shared: never changed."""

    json: str
    summary: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        """The whole payload, decoded afresh (the CSV export and the table view read every day)."""
        return json.loads(self.json)

    def json_with(self, **members: Any) -> str:
        """The payload's JSON with more members (the ranking) added, without encoding the payload again."""
        if not members:
            return self.json
        return f"{self.json[:-1]}, {script_safe(json.dumps(members))[1:]}"


def payload_json(payload: dict[str, Any]) -> str:
    """The payload as JSON text: orjson's, about a seventh of json's CPU on a year's daily points (every first
    view after a sync encodes them); json's for what orjson refuses (an integer past 64 bits), so nothing
    that encoded before fails now. orjson writes no blanks between items, UTF-8 rather than escapes, and null
    for a NaN that json would write as the invalid `NaN`."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(payload)


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


def statistics_kept(*, locations: list[Location], query: StatsQuery, timezone_name: str) -> KeptPayload:
    """`statistics_payload`, encoded, or as kept while the locations' statistics versions stay the same."""
    def compute() -> KeptPayload:
        payload = statistics_payload(locations=locations, query=query, timezone_name=timezone_name)
        summary = {**payload, "metrics": {metric: {k: v for k, v in data.items() if k not in SERIES_KEYS}
                                          for metric, data in payload["metrics"].items()}}
        return KeptPayload(json=script_safe(payload_json(payload)), summary=summary)

    return memo_get(("statistics", query, timezone_name), locations, compute, STATISTICS)


def agency_timezone(locations: list[Location]) -> str:
    zones = sorted({loc.timezone for loc in locations})
    return zones[0] if len(zones) == 1 else "each location's own time zone"


def ranking_dicts(locations: list[Location], query: StatsQuery, metric: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "location"}
            for row in rank(locations=locations, query=query, metric=metric)]
