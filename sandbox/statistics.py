"""POST /social-media-posting/statistics: aggregated numbers over the asked profiles for a current range
against a previous one.

Two contracts (versions.py): under `v3` the ranges are honoured; under `2021-07-28` (any other Version)
`currentRange` and `prevRange` are ignored, as that contract does not have them. Without ranges the answer is
the last 7 days excluding today, against the 7 before; "today" is the location's, in its time zone (what
HighLevel means is not documented; the sync accepts a day either side).

Choices where HighLevel documents nothing: days are UTC calendar days from startDate's date to endDate's
date; days after the sandbox's today report zeros (followers stay at today's count); `dayRange` labels are
short weekday names as the published example shows; `followers` is a daily running count, so its total is
the last day's value (every other total is the sum of its series); `change`/`totalChange` are percentages
rounded to 2 places, 100.0 when the previous value was 0 and the current is not, 0.0 when both are 0;
engagement's change compares likes + comments + shares. Metrics a platform does not report are missing
(never zero), and a total is missing when no asked platform reports it. Unknown profile ids are ignored."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from .auth import authorize
from .http import BadBody, Request, Response, fail, json_response, plain_number
from .metrics import AGE_BUCKETS, day_metrics, profile_traits
from .names import PLATFORMS
from .state import Sandbox, parse_iso
from .versions import is_v3

SCOPES = ("socialplanner/statistics.readonly",)
MAX_PROFILES = 100
MAX_DAYS = 366
# `dayRange` labels: strftime("%a") of a Monday to a Sunday, once (the sandbox never changes its locale).
_WEEKDAYS = tuple(date(2024, 1, n).strftime("%a") for n in range(1, 8))


def statistics(sb: Sandbox, req: Request) -> Response:
    location_id = req.query.get("locationId", "")
    authorize(sb, req, scopes=SCOPES, location_id=location_id or None)
    if not location_id:
        raise fail(422, ["locationId should not be empty"])
    current, previous, profile_ids, platforms = _parse(sb, req, location_id)
    with sb.lock:
        made = sb.location(location_id)
        accounts = [a for a in made.accounts if a["profileId"] in profile_ids
                    and (platforms is None or a["platform"] in platforms)] if made else []
    cur, prev = _series(sb, accounts, current), _series(sb, accounts, previous)
    results = {
        "dayRange": [_WEEKDAYS[d.weekday()] for d in current],
        "totals": _totals(cur),
        "postPerformance": _post_performance(cur),
        "breakdowns": _breakdowns(cur, prev),
        "platformTotals": {
            metric: {p: {"total": _total(metric, s[metric]), "series": s[metric]}
                     for p, s in cur.items() if metric in s}
            for metric in ("impressions", "followers", "likes")
        },
        "demographics": _demographics(sb, accounts, current[-1]),
    }
    trace_id = req.extra_headers.get("X-Trace-Id") or str(uuid.uuid4())
    return json_response(200, {"results": results, "message": "Analytics Built Successfully", "traceId": trace_id},
                         plain=_plain(results))


def _parse(sb: Sandbox, req: Request, location_id: str):
    try:
        body = req.json()
    except BadBody:
        raise fail(400, "Bad Request", with_error=False) from None
    if not isinstance(body, dict):
        raise fail(400, ["body must be an object"])
    profile_ids = body.get("profileIds")
    if not isinstance(profile_ids, list) or not profile_ids or not all(isinstance(p, str) for p in profile_ids):
        raise fail(400, ["profileIds must be a non-empty array of strings"])
    if len(profile_ids) > MAX_PROFILES:
        raise fail(400, [f"profileIds must contain no more than {MAX_PROFILES} elements"])
    platforms = body.get("platforms")
    if platforms is not None:
        if not isinstance(platforms, list) or any(p not in PLATFORMS for p in platforms):
            raise fail(400, [f"each value in platforms must be one of the following values: {', '.join(PLATFORMS)}"])
        platforms = set(platforms)
    ranges = is_v3(req)
    if ranges and body.get("prevRange") and not body.get("currentRange"):
        raise fail(400, ["prevRange needs currentRange"])
    if ranges and body.get("currentRange"):
        current = _range(body["currentRange"], "currentRange")
        if body.get("prevRange"):
            previous = _range(body["prevRange"], "prevRange")
        else:
            previous = [d - timedelta(days=len(current)) for d in current]
    else:
        today = _location_today(sb, location_id)
        current = [today - timedelta(days=n) for n in range(7, 0, -1)]
        previous = [d - timedelta(days=7) for d in current]
    return current, previous, set(profile_ids), platforms


def _location_today(sb: Sandbox, location_id: str) -> date:
    location = sb.skeleton.locations.get(location_id)
    return sb.now().astimezone(ZoneInfo(location.timezone if location else "UTC")).date()


def _range(value, name: str) -> list[date]:
    try:
        start, end = parse_iso(str(value["startDate"])), parse_iso(str(value["endDate"]))
    except (KeyError, TypeError, ValueError):
        raise fail(400, [f"{name}.startDate and {name}.endDate must be ISO 8601 dates"]) from None
    if start > end:
        raise fail(400, [f"{name}.startDate must not be after {name}.endDate"])
    count = (end.date() - start.date()).days + 1
    if count > MAX_DAYS:
        raise fail(400, [f"{name} must not span more than {MAX_DAYS} days"])
    return [start.date() + timedelta(days=n) for n in range(count)]


def _series(sb: Sandbox, accounts: list[dict], days: list[date]) -> dict[str, dict[str, list[int]]]:
    """Per platform, per reported metric, the per-day sums over the accounts."""
    config, anchor = sb.config, sb.anchor_day
    today = sb.now().date()
    out: dict[str, dict[str, list[int]]] = {}
    for account in accounts:
        platform, profile_id = account["platform"], account["profileId"]
        sums = out.setdefault(platform, {})
        drops = _drops(sb, account)
        for index, day in enumerate(days):
            known = min(day, today)
            values = day_metrics(config.seed, profile_id, platform, config.days, (known - anchor).days,
                                 known.weekday())
            if day > today:  # nothing has happened yet: flows are zero, the follower count stands still
                values = {m: (v if m == "followers" else 0) for m, v in values.items()}
            if drops:
                values = _dropped(drops, day, values)
            for metric, value in values.items():
                series = sums.get(metric)
                if series is None:
                    series = sums[metric] = [0] * len(days)
                series[index] += value
    return out


def _drops(sb: Sandbox, account: dict) -> list[dict]:
    """Planted drops (control.py) on this account's location and platform."""
    location_id = account["id"].split("_")[1] if account["id"].count("_") >= 3 else ""
    return [d for d in sb.drops.get(location_id, ()) if d["platform"] in ("", account["platform"])]


def _dropped(drops: list[dict], day: date, values: dict[str, int]) -> dict[str, int]:
    """The values after the account's drops that started by this day."""
    drops = [d for d in drops if day.isoformat() >= d["from"]]
    if not drops:
        return values
    values = dict(values)
    for drop in drops:
        metrics = ("likes", "comments", "shares") if drop["metric"] == "engagement" else (drop["metric"],)
        for metric in metrics:
            if metric in values:
                values[metric] = int(values[metric] * drop["factor"])
    return values


def _plain(results: dict) -> bool:
    """Whether orjson may write the answer (http.plain_number): series and totals are whole numbers, so only
    the changes and the audience shares are looked at."""
    numbers = []
    for metric, entry in results["breakdowns"].items():
        if metric == "engagement":
            numbers += [e["change"] for e in entry.values()]
        else:
            numbers.append(entry["totalChange"])
            numbers += [p["change"] for p in entry["platforms"].values()]
    numbers += [g["percentage"] for g in results["demographics"]["gender"]["totals"].values()]
    return all(map(plain_number, numbers))


def _total(metric: str, series: list[int]) -> int:
    if metric == "followers":
        return series[-1] if series else 0
    return sum(series)


def _aggregate(series: dict[str, dict[str, list[int]]], metric: str) -> list[int] | None:
    rows = [s[metric] for s in series.values() if metric in s]
    return [sum(day) for day in zip(*rows, strict=True)] if rows else None


def _change(current: int, previous: int) -> float:
    if previous == 0:
        return 100.0 if current else 0.0
    return round((current - previous) / previous * 100, 2)


def _totals(cur) -> dict[str, int]:
    totals = {}
    for metric in ("posts", "likes", "followers", "impressions", "comments"):
        agg = _aggregate(cur, metric)
        if agg is not None:
            totals[metric] = _total(metric, agg)
    return totals


def _post_performance(cur) -> dict:
    performance: dict = {"posts": {p: s["posts"] for p, s in cur.items()}}
    for metric in ("impressions", "likes", "comments"):
        agg = _aggregate(cur, metric)
        if agg is not None:
            performance[metric] = agg
    return performance


def _breakdowns(cur, prev) -> dict:
    breakdowns: dict = {}
    for metric in ("posts", "impressions", "reach"):
        agg_cur, agg_prev = _aggregate(cur, metric), _aggregate(prev, metric)
        if agg_cur is None:
            continue
        breakdowns[metric] = {
            "total": sum(agg_cur), "totalChange": _change(sum(agg_cur), sum(agg_prev or [])),
            "platforms": {p: {"value": sum(s[metric]), "change": _change(sum(s[metric]), sum(prev[p][metric]))}
                          for p, s in cur.items() if metric in s},
        }
    engagement = {}
    for platform, series in cur.items():
        entry = {m: sum(series[m]) for m in ("likes", "comments", "shares") if m in series}
        before = sum(sum(prev[platform][m]) for m in entry)
        entry["change"] = _change(sum(entry.values()), before)
        engagement[platform] = entry
    breakdowns["engagement"] = engagement
    return breakdowns


def _demographics(sb: Sandbox, accounts: list[dict], last_day: date) -> dict:
    """Followers on the range's last day, split by each profile's seeded audience mix."""
    gender = {"male": 0.0, "female": 0.0, "unknown": 0.0}
    ages = dict.fromkeys(AGE_BUCKETS, 0.0)
    for account in accounts:
        last = day_metrics(sb.config.seed, account["profileId"], account["platform"], sb.config.days,
                           (last_day - sb.anchor_day).days, last_day.weekday()).get("followers", 0)
        traits = profile_traits(sb.config.seed, account["profileId"])
        gender["male"] += last * traits["male"]
        gender["unknown"] += last * traits["unknown"]
        gender["female"] += last * (1 - traits["male"] - traits["unknown"])
        for bucket, weight in zip(AGE_BUCKETS, traits["ages"], strict=True):
            ages[bucket] += last * weight
    everyone = sum(gender.values())
    return {
        "gender": {"totals": {k: {"total": round(v), "percentage": round(v / everyone * 100, 2) if everyone else 0}
                              for k, v in gender.items()}},
        "age": {"totals": {k: round(v) for k, v in ages.items()}},
    }
