"""The performance pages' and API's query string, read one way: the statistics range parser
(statistics_range.py: presets or start/end, platform, account) with a 90-day default, then sort, search and
tag, through the project's typed parameters (dashboard/params.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from dashboard.params import Params
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


def performance_query(params: Params, *, location: Location | None, sorts: dict[str, str],
                      default_sort: str) -> PerformanceQuery:
    """Read the range (90 days unless asked), platform, account, sort, search and tag from `params`; a bad
    value fails as `params` says (dashboard/params.py: 400 on the API, the default and a note on pages)."""
    if not (params.raw("range") or params.raw("start") or params.raw("end")):
        query = params.query.copy()
        query["range"] = DEFAULT_RANGE
        ranged = Params(query, strict=params.strict)
    else:
        ranged = params
    accounts = accounts_of([location.pk]) if location is not None else {}
    if location is None and params.raw("account"):
        params.fail("account", "account applies to a location's pages only.")
    stats = stats_query_from(ranged, today=location_today(location), accounts=accounts)
    if ranged is not params:
        params.problems.extend(ranged.problems)
    # A page without sorting (a campaign's page, reached from the sorted list) leaves `sort` unread, so the
    # list's sort that its links carry is not reported as a mistake.
    sort = params.choice("sort", [*sorts, *(f"-{key}" for key in sorts)], default=default_sort) if sorts \
        else default_sort
    platform = params.raw("platform").strip()
    if platform and not platform.isalpha():
        params.fail("platform", "platform must be a platform's name, such as facebook.")
        stats = replace(stats, platform="")
    return PerformanceQuery(stats=stats, sort=sort, q=params.text("q"), tag_id=params.text("tag", max_length=64))
