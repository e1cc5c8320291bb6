"""The performance pages' and API's query string, read one way: the statistics range parser
(statistics_range.py: presets or start/end, platform, account) with a 90-day default, then sort, search and
tag. Strict (the API): a bad value raises ValueError, which the API answers with 400; pages fall back."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import QueryDict

from dashboard.selectors.statistics_range import StatsQuery, accounts_of, location_today, stats_query_from
from integrations.models import Location

DEFAULT_RANGE = "90d"


@dataclass(frozen=True)
class PerformanceQuery:
    stats: StatsQuery
    sort: str
    q: str = ""
    tag_id: str = ""

    @property
    def start(self):
        return self.stats.start

    @property
    def end(self):
        return self.stats.end

    def as_query(self, **changes: str) -> str:
        """The state as a query string, for links that keep it (`changes` override, '' drops a key)."""
        state = {k: v for k, v in self.stats.as_query().items() if k != "compare"}
        state.update({k: v for k, v in (("sort", self.sort), ("q", self.q), ("tag", self.tag_id)) if v})
        state.update(changes)
        return urlencode({k: v for k, v in state.items() if v})


def performance_query(params: QueryDict, *, location: Location | None, sorts: dict[str, str], default_sort: str,
                      strict: bool) -> PerformanceQuery:
    if not (params.get("range") or params.get("start") or params.get("end")):
        params = params.copy()
        params["range"] = DEFAULT_RANGE
    accounts = accounts_of([location.pk]) if location is not None else {}
    if location is None and params.get("account") and strict:
        raise ValueError("account applies to a location's pages only.")
    stats = stats_query_from(params, today=location_today(location), accounts=accounts, strict=strict)
    sort = params.get("sort") or default_sort
    if sort.lstrip("-") not in sorts:
        if strict:
            raise ValueError(f"sort must be one of {', '.join(sorts)} (with - first for descending).")
        sort = default_sort
    if strict and params.get("platform") and not params["platform"].isalpha():
        raise ValueError("platform must be a platform's name, such as facebook.")
    return PerformanceQuery(stats=stats, sort=sort, q=params.get("q", "").strip()[:100],
                            tag_id=params.get("tag", "").strip()[:64])
