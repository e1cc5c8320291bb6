"""Statistics as the charts, the API and the CSV export read them: daily series per metric and platform,
totals with the previous period, demographics, and locations ranked by a metric.

- A day without a number is a gap (None), never a zero; a total of nothing but gaps is None.
- `followers` is an audience size (HighLevel's v3 spec: "Daily follower counts"), not daily gains: it is charted
  as a line per platform, and its all-platform series is a day's sum only when every platform has that day
  (else a gap: a missing platform would look like lost followers). Its total, the "Followers (latest)" card,
  is that series' last point, so the card and the chart's last point agree.
- `engagement` is derived per platform and day as likes + comments + shares (whichever are reported),
  the way HighLevel's own engagement breakdown counts it.
- Per-platform rows (platform != '') feed the stacks; the all-platform rows ('') only stand in for a
  metric no platform reports on its own. One grouped query for the series, however many locations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.db.models import CharField, Max, Min, Q, Sum
from django.db.models.functions import Cast

from dashboard.selectors.performance_memo import parts_get
from dashboard.selectors.statistics_months import range_sums
from dashboard.selectors.statistics_range import StatsQuery
from integrations.data_versions import STATISTICS
from integrations.metrics import METRICS, percent_change
from integrations.models import Connection, Demographics, Location, StatisticsPoint
from integrations.sync.agency_rollup import agency_days_read

METRIC_LABELS = {m: m.capitalize() for m in METRICS}
GAUGES = frozenset({"followers"})
ENGAGEMENT_PARTS = ("likes", "comments", "shares")
ALL_PLATFORMS = ""
GAUGE_TAIL = 3  # days at each range's end where an audience size's ranking looks for its last point first

Grid = dict[str, dict[str, dict[date, float | None]]]  # metric -> platform -> day -> value


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 2)


def _sum(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _points(location_pks: list[int], query: StatsQuery, first: date, metrics: tuple[str, ...] | None = None):
    points = StatisticsPoint.objects.filter(location_id__in=location_pks, profile_id=query.profile_id,
                                            day__gte=first, day__lte=query.end)
    if query.platform:
        points = points.filter(platform=query.platform)
    if metrics:
        points = points.filter(metric__in=metrics)
    return points


def _grid(rows) -> Grid:
    grid: Grid = defaultdict(lambda: defaultdict(dict))
    for platform, metric, day, value in rows:
        grid[metric][platform][day] = value
    grid.default_factory = None  # reads below must not create empty metrics
    _derive_engagement(grid)
    for by_platform in grid.values():  # the '' rows stand in only where no platform reports the metric
        if len(by_platform) > 1:
            by_platform.pop(ALL_PLATFORMS, None)
    return grid


def _derive_engagement(grid: Grid) -> None:
    if "engagement" in grid:
        return
    platforms = {p for m in ENGAGEMENT_PARTS for p in grid.get(m, {})}
    if not platforms:
        return
    engagement = grid["engagement"] = defaultdict(dict)
    for platform in platforms:
        parts = [grid[m][platform] for m in ENGAGEMENT_PARTS if platform in grid.get(m, {})]
        engagement[platform] = {d: _sum([part.get(d) for part in parts]) for d in set().union(*parts)}


def _total(metric: str, values: list[float | None]) -> float | None:
    if metric in GAUGES:
        return next((v for v in reversed(values) if v is not None), None)
    return _sum(values)


def _span(first: date, last: date) -> list[date]:
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


def _points_json(isos: list[str], values: list[float | None]) -> list[dict[str, Any]]:
    # _number inlined: this runs once per day, platform and metric (about 100,000 times for a year).
    return [{"date": iso, "value": v if v is None else int(v) if float(v).is_integer() else round(v, 2)}
            for iso, v in zip(isos, values, strict=True)]


def _rows(points, *keys: str, summed: bool, value: str = "value") -> Iterator[tuple]:
    """(*keys, day, value) of the points: summed per key and day across locations, or as stored for one
    location (no GROUP BY). Days come as text, cast in SQL, and are parsed once per distinct day rather
    than once per row: a year of one location's points is tens of thousands of rows."""
    points = points.annotate(day_text=Cast("day", output_field=CharField()))
    if summed:
        rows = points.values_list(*keys, "day_text").annotate(total=Sum("value")).order_by()
    else:
        rows = points.values_list(*keys, "day_text", value).order_by()
    days: dict[str, date] = {}
    for *key, text, value in rows.iterator(chunk_size=5000):
        day = days.get(text)
        if day is None:
            day = days[text] = date.fromisoformat(text[:10])
        yield (*key, day, value)


class _Days:
    """The range's days (and previous days) and their ISO labels, computed once per request, not per metric."""

    def __init__(self, query: StatsQuery):
        self.days = query.days
        self.isos = [d.isoformat() for d in self.days]
        self.previous = _span(*query.previous) if query.compare else []
        self.previous_isos = [d.isoformat() for d in self.previous]


def metric_summary(metric: str, by_platform: dict[str, dict[date, float | None]], query: StatsQuery,
                   days: _Days | None = None) -> dict[str, Any]:
    days = days or _Days(query)
    out_platforms: dict[str, Any] = {}
    platform_totals, previous_totals, columns, previous_columns = [], [], [], []
    for platform in sorted(by_platform):
        values = by_platform[platform]
        series = list(map(values.get, days.days))
        columns.append(series)
        total = _total(metric, series)
        platform_totals.append(total)
        if query.compare:
            previous_columns.append(list(map(values.get, days.previous)))
            previous_totals.append(_total(metric, previous_columns[-1]))
        out_platforms[platform or "all"] = {"total": _number(total), "series": _points_json(days.isos, series)}
    gauge = metric in GAUGES
    combined = _combined(columns, len(days.days), gauge=gauge)
    total = _total(metric, combined) if gauge else _sum(platform_totals)
    previous_combined = _combined(previous_columns, len(days.previous), gauge=gauge) if query.compare else []
    previous = (_total(metric, previous_combined) if gauge else _sum(previous_totals)) if query.compare else None
    summary = {
        "total": _number(total), "previous_total": _number(previous), "change_pct": percent_change(total, previous),
        "series": _points_json(days.isos, combined),
        "by_platform": out_platforms,
    }
    if query.compare:  # the chart draws it over the bars, day n against day n of the previous period
        summary["previous_series"] = _points_json(days.previous_isos, previous_combined)
    return summary


def _combined(columns: list[list[float | None]], length: int, *, gauge: bool = False) -> list[float | None]:
    """Every platform's number of each day summed: a gap where every platform has one, and for a gauge
    (an audience size) wherever any platform has one."""
    if not columns:
        return [None] * length
    if gauge:
        return [None if None in day else sum(day) for day in zip(*columns, strict=True)]
    return [_sum(day) for day in zip(*columns, strict=True)]


def statistics_for(*, location_pks: list[int], query: StatsQuery) -> dict[str, Any]:
    """{"metrics": {metric: {total, previous_total, change_pct, series, by_platform}}, "platforms": [...]}."""
    first = query.previous[0] if query.compare else query.start
    if len(location_pks) > 1 and query.profile_id == ALL_PLATFORMS and _every_location(location_pks):
        rows = _agency_rows(query, first)
    else:
        rows = _rows(_points(location_pks, query, first), "platform", "metric", summed=len(location_pks) > 1)
    grid = _grid(rows)
    days = _Days(query)
    metrics = {m: metric_summary(m, grid[m], query, days) for m in METRICS if m in grid}
    platforms = sorted({p for m in metrics.values() for p in m["by_platform"]})
    return {"metrics": metrics, "platforms": platforms}


def _every_location(location_pks: list[int]) -> bool:
    """Whether the locations are all there are: then the agency rollup holds exactly their sum."""
    return len(set(location_pks)) == Location.objects.count()


def _agency_rows(query: StatsQuery, first: date) -> Iterator[tuple]:
    """(platform, metric, day, value) summed over every location, from the daily rollup: as many rows at
    200 locations as at 2 (the rollup equals the raw points' sums: integrations/sync/agency_rollup.py)."""
    for platform, metric, day, value, _ in agency_days_read(first, query.end, query.platform or None):
        yield platform, metric, day, value


def demographics_for(*, location_pks: list[int], query: StatsQuery) -> dict[str, Any] | None:
    """Gender and age of the audience, the latest answer up to the range's end, summed over locations."""
    # Answers are keyed by their UTC day and ranges end on the location's day, which west of UTC is a day
    # behind for part of every day: without the day's slack a range ending "today" found no demographics then.
    latest = dict(Demographics.objects.filter(location_id__in=location_pks, profile_id=query.profile_id,
                                              range_end__lte=query.end + timedelta(days=1))
                  .values_list("location_id").annotate(last=Max("range_end")).order_by())
    if not latest:
        return None
    gender: dict[str, float] = defaultdict(float)
    age: dict[str, float] = defaultdict(float)
    as_of = None
    # Each location's latest answer, read by two IN lists and picked here: an OR of (location, day) pairs took
    # Django ~30 ms to compile at 200 locations, on every first view of the agency's statistics.
    answers = Demographics.objects.filter(location_id__in=list(latest), profile_id=query.profile_id,
                                          range_end__in=set(latest.values())).values_list(
        "location_id", "range_end", "data")
    for location_id, range_end, data in answers:
        if range_end != latest[location_id]:
            continue
        for key, entry in (data.get("gender", {}).get("totals") or {}).items():
            gender[key] += (entry.get("total") if isinstance(entry, dict) else entry) or 0
        for key, value in (data.get("age", {}).get("totals") or {}).items():
            age[key] += (value.get("total") if isinstance(value, dict) else value) or 0
        as_of = max(as_of or range_end, range_end)
    return {"as_of": as_of.isoformat() if as_of else None, "gender": {k: _number(v) for k, v in gender.items()},
            "age": {k: _number(v) for k, v in age.items()}}


def locations_ranked(*, locations: list[Any], query: StatsQuery, metric: str) -> list[dict[str, Any]]:
    """Each location's total (and previous total) of one metric in the range, highest first. Each location's
    totals are kept while its statistics stay the same (performance_memo.py): after one location's sync, only
    its own are read again."""
    def compute(missing: list[Any]) -> dict[int, tuple]:
        if metric in GAUGES:
            return _gauge_totals(missing, query, metric)
        return _summed_totals(missing, query, metric)

    totals = parts_get(("ranking", query, metric), locations, compute, STATISTICS)
    ranked = []
    for location in locations:
        total, previous = totals.get(location.pk) or (None, None)
        ranked.append({"location": location, "id": location.location_id, "name": location.name,
                       "total": _number(total), "previous_total": _number(previous),
                       "change_pct": percent_change(total, previous)})
    ranked.sort(key=lambda r: (r["total"] is None, -(r["total"] or 0), r["name"]))
    return ranked


def _spans(query: StatsQuery) -> list[tuple[date, date]]:
    return [(query.start, query.end), query.previous] if query.compare else [(query.start, query.end)]


def _gauge_totals(locations: list[Any], query: StatsQuery, metric: str) -> dict[int, tuple]:
    """{location pk: (total, previous total)} of an audience size: its series' last point, where every
    platform the location has in the ranges has a number. Which platforms those are comes from the monthly
    rollup; the numbers of each range's last GAUGE_TAIL days are read raw, and a location's whole ranges only
    where no such day has every platform's number (so the answer is the charts' whatever the data)."""
    pks = [loc.pk for loc in locations]
    if query.profile_id != ALL_PLATFORMS:
        return _gauge_totals_raw(pks, query, metric)
    spans = _spans(query)
    present: dict[int, set[str]] = defaultdict(set)
    with_rows: set[tuple[int, int]] = set()  # (location pk, span index) with a row in the span
    for (pk, platform, _), sums in range_sums(location_pks=pks, metrics=(metric,), spans=spans,
                                              platform=query.platform).items():
        present[pk].add(platform)
        with_rows |= {(pk, n) for n, (_, rows) in enumerate(sums) if rows}
    tails = [[last - timedelta(days=k) for k in range(GAUGE_TAIL) if last - timedelta(days=k) >= first]
             for first, last in spans]
    # Days and platforms named: a seek per location, platform and day in the points' unique index.
    points = StatisticsPoint.objects.filter(
        location_id__in=pks, profile_id=query.profile_id, platform__in=sorted(set().union(*present.values())),
        metric=metric, day__in=sorted({d for tail in tails for d in tail}))
    values: dict[int, dict[str, dict[date, float | None]]] = defaultdict(lambda: defaultdict(dict))
    for pk, platform, day, value in points.values_list("location_id", "platform", "day", "value"):
        values[pk][platform][day] = value
    found, lacking = {}, []
    for pk in pks:
        platforms = sorted(present.get(pk, ()))
        if len(platforms) > 1 and ALL_PLATFORMS in platforms:
            platforms.remove(ALL_PLATFORMS)
        ends = []
        for n, tail in enumerate(tails):
            complete = [d for d in tail if platforms and all(values[pk][p].get(d) is not None for p in platforms)]
            if complete:
                ends.append(sum(values[pk][p][complete[0]] for p in platforms))
            elif (pk, n) in with_rows:
                lacking.append(pk)
                break
            else:
                ends.append(None)
        else:
            found[pk] = (ends[0], ends[1] if query.compare else None)
    return found | _gauge_totals_raw(lacking, query, metric)


def _gauge_totals_raw(pks: list[int], query: StatsQuery, metric: str) -> dict[int, tuple]:
    """The same from every raw point of the ranges (one row per location, platform and day)."""
    if not pks:
        return {}
    first = query.previous[0] if query.compare else query.start
    rows = _rows(_points(pks, query, first, (metric,)), "location_id", "platform", "metric", summed=False)
    per_location: dict[int, list] = defaultdict(list)
    for location_pk, *rest in rows:
        per_location[location_pk].append(rest)
    days = _Days(query)
    found = {}
    for pk, location_rows in per_location.items():
        summary = metric_summary(metric, _grid(location_rows).get(metric, {}), query, days)
        found[pk] = (summary["total"], summary["previous_total"])
    return found


def _summed_totals(locations: list[Any], query: StatsQuery, metric: str) -> dict[int, tuple]:
    """{location pk: (total, previous total)} of a summed metric, added up by the database from the monthly
    rollup and the partial months' days (selectors/statistics_months.py): a few rows per location, platform
    and metric whatever the range's length. The same figures as the charts' totals: the all-platform row only
    where no platform reports the metric, engagement as likes + comments + shares."""
    needed = ENGAGEMENT_PARTS if metric == "engagement" else (metric,)
    pks = [loc.pk for loc in locations]
    if query.profile_id == ALL_PLATFORMS:
        sums = range_sums(location_pks=pks, metrics=needed, spans=_spans(query), platform=query.platform)
        rows = [(pk, platform, metric, spans[0][0], spans[1][0] if query.compare else None)
                for (pk, platform, metric), spans in sums.items()]
    else:
        first = query.previous[0] if query.compare else query.start
        rows = (_points(pks, query, first, needed).values_list("location_id", "platform", "metric")
                .annotate(now=Sum("value", filter=Q(day__gte=query.start)),
                          before=Sum("value", filter=Q(day__lt=query.start))).order_by())
    by_platform: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for location_pk, platform, _, now, before in rows:  # engagement: its parts' sums, added per platform
        by_platform[location_pk][platform].append((now, before))
    found = {}
    for pk, platforms in by_platform.items():
        if len(platforms) > 1:
            platforms.pop(ALL_PLATFORMS, None)
        total = _sum(_sum(now for now, _ in sums) for sums in platforms.values())
        previous = _sum(_sum(before for _, before in sums) for sums in platforms.values())
        found[pk] = (total, previous if query.compare else None)
    return found


def statistics_csv_rows(data: dict[str, Any]):
    """Daily rows of `statistics_for`: date, platform ('all' = every platform), one column per metric."""
    metrics = list(data["metrics"])
    yield ["date", "platform", *metrics]
    if not metrics:
        return
    first = data["metrics"][metrics[0]]
    for index, point in enumerate(first["series"]):
        yield [point["date"], "all", *(data["metrics"][m]["series"][index]["value"] for m in metrics)]
        for platform in data["platforms"]:
            yield [point["date"], platform, *(
                data["metrics"][m]["by_platform"][platform]["series"][index]["value"]
                if platform in data["metrics"][m]["by_platform"] else None for m in metrics)]


def statistics_tables(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The charts' text alternative: per metric, one row per day with the total and each platform."""
    tables = []
    for metric, data in payload["metrics"].items():
        platforms = list(data["by_platform"])
        rows = [{"date": point["date"], "total": point["value"],
                 "values": [data["by_platform"][p]["series"][i]["value"] for p in platforms]}
                for i, point in enumerate(data["series"])]
        tables.append({"metric": metric, "label": METRIC_LABELS[metric], "platforms": platforms, "rows": rows})
    return tables


def statistics_history(*, location: Location) -> dict[str, Any] | None:
    """How far back the location's statistics can go when its connection is on 2021-07-28 (HighLevel gives
    only the last 7 days there: docs/deploy.md, "Statistics contracts"); None under v3."""
    connection = Connection.objects.filter(pk=location.connection_id).first() if location.connection_id else None
    if connection is None or connection.statistics_ranges:
        return None
    since = (StatisticsPoint.objects.filter(location=location, profile_id=StatisticsPoint.ALL_ACCOUNTS)
             .aggregate(first=Min("day"))["first"])
    return {"since": since, "version": connection.social_version}


def locations_on_seven_days(*, locations: list[Location]) -> list[Location]:
    """The locations whose connection is on 2021-07-28 (their history is short; the agency page names them)."""
    ranged = {c.pk: c.statistics_ranges for c in Connection.objects.filter(
        pk__in={loc.connection_id for loc in locations if loc.connection_id})}
    return [loc for loc in locations if loc.connection_id and not ranged.get(loc.connection_id, True)]
