"""HighLevel's Social Planner answers (tags, social accounts, statistics) -> types.py's dataclasses; posts are in
posts.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from integrations.highlevel.errors import BadResponse
from integrations.highlevel.parsing.readers import (
    _bool,
    _identified,
    _items,
    _list,
    _number,
    _obj,
    _results,
    _series,
    _str,
    _str_list,
    parse_datetime,
)
from integrations.highlevel.types import (
    AccountGroup,
    AccountListing,
    Breakdown,
    PlatformTotal,
    SocialAccount,
    Statistics,
    Tag,
)


# --- tags -----------------------------------------------------------------------------------------------
def parse_tag(item: Any) -> Tag:
    item, tag_id = _identified(item, "tag")
    return Tag(
        id=tag_id,
        name=_str(item, "tag", required=False) or _required_name(item),
        location_id=_str(item, "locationId"),
        created_by=_str(item, "createdBy"),
        deleted=_bool(item, "deleted"),
        created_at=parse_datetime(item.get("createdAt"), "createdAt"),
        updated_at=parse_datetime(item.get("updatedAt"), "updatedAt"),
        raw=item,
    )


def _required_name(item: dict[str, Any]) -> str:
    # An empty name is a tag HighLevel holds; a missing one is a broken item.
    if item.get("tag") == "":
        return ""
    raise BadResponse("tag without 'tag' (its name)")


def parse_tag_page(body: Any) -> tuple[list[Tag], list[str], int]:
    """One page of tags: (tags, problems, number of items the page held)."""
    raw_items = _list(_results(body).get("tags"), "results.tags")
    tags, problems = _items(raw_items, parse_tag, "tags")
    return tags, problems, len(raw_items)


# --- accounts -------------------------------------------------------------------------------------------
def parse_account(item: Any) -> SocialAccount:
    item, account_id = _identified(item, "account", ("id", "_id"))
    platform = _str(item, "platform", required=True)
    meta = item.get("meta")
    return SocialAccount(
        id=account_id,
        profile_id=_str(item, "profileId"),
        name=_str(item, "name") or "",
        platform=(platform or "").lower(),
        type=_str(item, "type"),
        oauth_id=_str(item, "oauthId"),
        expire=parse_datetime(item.get("expire"), "expire"),
        is_expired=_bool(item, "isExpired"),
        meta=meta if isinstance(meta, dict) else {},
        raw=item,
    )


def parse_group(item: Any) -> AccountGroup:
    item, group_id = _identified(item, "group", ("id", "_id"))
    return AccountGroup(
        id=group_id,
        name=_str(item, "name") or "",
        account_ids=_str_list(item.get("accountIds"), "accountIds"),
        raw=item,
    )


def parse_accounts(body: Any) -> AccountListing:
    results = _results(body)
    accounts, problems = _items(_list(results.get("accounts"), "results.accounts"), parse_account, "accounts")
    groups_raw = results.get("groups")
    groups, group_problems = _items(_list(groups_raw if groups_raw is not None else [], "results.groups"),
                                    parse_group, "groups")
    return AccountListing(tuple(accounts), tuple(groups), tuple(problems + group_problems), raw=body)


# --- statistics -----------------------------------------------------------------------------------------
def _breakdown(value: Any, what: str) -> Breakdown:
    value = _obj(value, what)
    platforms: dict[str, dict[str, Any]] = {}
    for platform, entry in _obj(value.get("platforms") or {}, f"{what}.platforms").items():
        entry = _obj(entry, f"{what}.platforms.{platform}")
        platforms[platform] = {
            "value": _number(entry.get("value"), f"{what}.{platform}.value"),
            "change": _number(entry.get("change"), f"{what}.{platform}.change"),
        }
    return Breakdown(
        total=_number(value.get("total"), f"{what}.total"),
        total_change=_number(value.get("totalChange"), f"{what}.totalChange"),
        platforms=platforms,
    )


def parse_statistics(
    body: Any, profile_ids: tuple[str, ...] = (), asked_days: tuple[date, ...] | None = None
) -> Statistics:
    body = _obj(body, "body")
    results = _results(body)
    day_range = _str_list(results.get("dayRange"), "dayRange")

    totals = {k: _number(v, f"totals.{k}") for k, v in _obj(results.get("totals") or {}, "totals").items()}

    perf = _obj(results.get("postPerformance") or {}, "postPerformance")
    posts_by_platform = {
        p: _series(s, f"postPerformance.posts.{p}")
        for p, s in _obj(perf.get("posts") or {}, "postPerformance.posts").items()
    }
    performance = {k: _series(v, f"postPerformance.{k}") for k, v in perf.items() if k != "posts" and v is not None}

    breakdowns_raw = _obj(results.get("breakdowns") or {}, "breakdowns")
    breakdowns = {k: _breakdown(v, f"breakdowns.{k}") for k, v in breakdowns_raw.items() if k != "engagement"}
    engagement = {
        platform: {k: _number(v, f"engagement.{platform}.{k}") for k, v in _obj(entry, "engagement").items()}
        for platform, entry in _obj(breakdowns_raw.get("engagement") or {}, "breakdowns.engagement").items()
    }

    platform_totals: dict[str, dict[str, PlatformTotal]] = {}
    for metric, by_platform in _obj(results.get("platformTotals") or {}, "platformTotals").items():
        platform_totals[metric] = {}
        for platform, entry in _obj(by_platform, f"platformTotals.{metric}").items():
            entry = _obj(entry, f"platformTotals.{metric}.{platform}")
            series = entry.get("series")
            platform_totals[metric][platform] = PlatformTotal(
                total=_number(entry.get("total"), f"platformTotals.{metric}.{platform}.total"),
                series=_series(series, f"platformTotals.{metric}.{platform}.series") if series is not None else (),
            )
    demographics = results.get("demographics")
    return Statistics(
        profile_ids=tuple(profile_ids),
        day_range=day_range,
        totals=totals,
        posts_by_platform=posts_by_platform,
        performance=performance,
        breakdowns=breakdowns,
        engagement=engagement,
        platform_totals=platform_totals,
        demographics=demographics if isinstance(demographics, dict) else {},
        trace_id=body.get("traceId") if isinstance(body.get("traceId"), str) else None,
        asked_days=asked_days,
        raw=body,
    )
