"""HighLevel JSON -> the dataclasses in types.py.

Every function raises BadResponse (never KeyError/TypeError/ValueError) when a body is not the shape
../shared/highlevel-api.md documents. Listings parse item by item: a malformed item becomes a line in
`problems` instead of an exception, so the caller decides whether an unclean listing is usable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from integrations.highlevel.errors import BadResponse
from integrations.highlevel.types import (
    AccountGroup,
    AccountListing,
    Breakdown,
    InstalledLocation,
    LocationInfo,
    LocationToken,
    PlatformTotal,
    Post,
    SocialAccount,
    Statistics,
    Tag,
    TokenGrant,
)

T = TypeVar("T")


# --- small typed readers ----------------------------------------------------------------------------------
def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResponse(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadResponse(f"{what} is not a list")
    return value


def _str(item: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = item.get(key)
    if value is None:
        if required:
            raise BadResponse(f"missing {key!r}")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise BadResponse(f"{key!r} is not a string")
    if required and not value:
        raise BadResponse(f"empty {key!r}")
    return value


def _bool(item: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = item.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadResponse(f"{key!r} is not a boolean")
    return value


def _int(item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadResponse(f"{key!r} is not a number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadResponse(f"{key!r} is not a number") from None


def _number(value: Any, what: str) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        # Some HighLevel numbers arrive as numeric strings; anything else is a broken body.
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise BadResponse(f"{what} is not a number")
    return value


def _series(value: Any, what: str) -> tuple[float | int | None, ...]:
    return tuple(_number(v, what) for v in _list(value, what))


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = _list(value, what)
    if not all(isinstance(v, str) for v in items):
        raise BadResponse(f"{what} holds a non-string")
    return tuple(items)


def parse_datetime(value: Any, what: str = "date") -> datetime | None:
    """ISO 8601 (`2024-03-21T09:00:00.000Z`) or epoch milliseconds -> an aware UTC datetime."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value / 1000.0, tz=UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        pass
    raise BadResponse(f"{what} is not a date: {str(value)[:40]!r}")


def _results(body: Any) -> dict[str, Any]:
    return _obj(_obj(body, "body").get("results"), "results")


def _items(raw_items: list[Any], parse: Callable[[Any], T], what: str) -> tuple[list[T], list[str]]:
    parsed: list[T] = []
    problems: list[str] = []
    for index, item in enumerate(raw_items):
        try:
            parsed.append(parse(item))
        except BadResponse as exc:
            ident = item.get("_id") or item.get("id") if isinstance(item, dict) else None
            problems.append(f"{what}[{index}]{f' ({ident})' if ident else ''}: {exc.message}")
    return parsed, problems


# --- tags -----------------------------------------------------------------------------------------------
def parse_tag(item: Any) -> Tag:
    item = _obj(item, "tag")
    tag_id = _str(item, "_id") or _str(item, "id")
    if not tag_id:
        raise BadResponse("tag without '_id'")
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
    item = _obj(item, "account")
    account_id = _str(item, "id") or _str(item, "_id")
    if not account_id:
        raise BadResponse("account without 'id'")
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
    item = _obj(item, "group")
    group_id = _str(item, "id") or _str(item, "_id")
    if not group_id:
        raise BadResponse("group without 'id'")
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


# --- posts ----------------------------------------------------------------------------------------------
def parse_post(item: Any) -> Post:
    item = _obj(item, "post")
    post_id = _str(item, "_id") or _str(item, "id")
    if not post_id:
        raise BadResponse("post without '_id'")
    account_ids = _str_list(item.get("accountIds"), "accountIds")
    if not account_ids and isinstance(item.get("accountId"), str):
        account_ids = (item["accountId"],)
    tags = item.get("tags")
    # *unverified*: tags are documented as ids; tolerate embedded tag objects too.
    if isinstance(tags, list):
        tag_ids = tuple(t if isinstance(t, str) else str(_obj(t, "tags[]").get("_id") or "") for t in tags)
        if "" in tag_ids:
            raise BadResponse("a tag of the post has no id")
    else:
        tag_ids = _str_list(tags, "tags")
    return Post(
        id=post_id,
        status=_str(item, "status"),
        platform=_str(item, "platform"),
        tag_ids=tag_ids,
        account_ids=account_ids,
        summary=_str(item, "summary"),
        post_type=_str(item, "type") or _str(item, "postType"),
        published_at=parse_datetime(item.get("publishedAt"), "publishedAt"),
        scheduled_at=parse_datetime(item.get("scheduleDate"), "scheduleDate"),
        display_date=parse_datetime(item.get("displayDate"), "displayDate"),
        created_at=parse_datetime(item.get("createdAt"), "createdAt"),
        updated_at=parse_datetime(item.get("updatedAt"), "updatedAt"),
        raw=item,
    )


def parse_post_page(body: Any) -> tuple[list[Post], list[str], int]:
    raw_items = _list(_results(body).get("posts"), "results.posts")
    posts, problems = _items(raw_items, parse_post, "posts")
    return posts, problems, len(raw_items)


# --- OAuth ----------------------------------------------------------------------------------------------
def _scope(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if not isinstance(value, str):
        raise BadResponse("'scope' is not a string")
    return tuple(value.split())


def parse_token_grant(body: Any) -> TokenGrant:
    body = _obj(body, "token answer")
    access = _str(body, "access_token", required=True)
    assert access is not None
    return TokenGrant(
        access_token=access,
        refresh_token=_str(body, "refresh_token"),
        token_type=_str(body, "token_type") or "Bearer",
        expires_in=_int(body, "expires_in"),
        scope=_scope(body.get("scope")),
        user_type=_str(body, "userType"),
        location_id=_str(body, "locationId"),
        company_id=_str(body, "companyId"),
        user_id=_str(body, "userId"),
        approved_locations=_str_list(body.get("approvedLocations"), "approvedLocations"),
        is_bulk_installation=_bool(body, "isBulkInstallation"),
        plan_id=_str(body, "planId"),
        raw=body,
    )


def parse_location_token(body: Any) -> LocationToken:
    body = _obj(body, "location token answer")
    access = _str(body, "access_token", required=True)
    assert access is not None
    return LocationToken(
        access_token=access,
        token_type=_str(body, "token_type") or "Bearer",
        expires_in=_int(body, "expires_in"),
        scope=_scope(body.get("scope")),
        location_id=_str(body, "locationId"),
        company_id=_str(body, "companyId"),
        user_type=_str(body, "userType"),
        raw=body,
    )


def parse_installed_location(item: Any) -> InstalledLocation:
    item = _obj(item, "location")
    location_id = _str(item, "_id") or _str(item, "id")
    if not location_id:
        raise BadResponse("location without '_id'")
    address = item.get("address")
    return InstalledLocation(
        id=location_id,
        name=_str(item, "name") or "",
        address=address if isinstance(address, str) else None,
        is_installed=_bool(item, "isInstalled", default=True),
        installed_at=parse_datetime(item.get("installedAt"), "installedAt"),
        raw=item,
    )


def parse_installed_locations_page(body: Any) -> tuple[list[InstalledLocation], list[str], int]:
    raw_items = _list(_obj(body, "body").get("locations"), "locations")
    locations, problems = _items(raw_items, parse_installed_location, "locations")
    return locations, problems, len(raw_items)


def _loose_str(item: Mapping[str, Any], key: str) -> str | None:
    """A field whose shape is *unverified*: a non-empty string, or None for anything else."""
    value = item.get(key)
    return (value.strip() or None) if isinstance(value, str) else None


def parse_location_info(body: Any) -> LocationInfo:
    """`{"location": {...}}` from GET /locations/{locationId}. Beyond id, name, timezone, address and
    companyId the shape is *unverified*, so the rest is read liberally: an odd field is None, not an error,
    and a body that is the location object itself (no `location` wrapper) is accepted too."""
    body = _obj(body, "body")
    item = _obj(body.get("location", body), "location")
    location_id = _loose_str(item, "id") or _loose_str(item, "_id")
    if not location_id:
        raise BadResponse("location without 'id'")
    return LocationInfo(
        id=location_id,
        name=_loose_str(item, "name") or "",
        timezone=_loose_str(item, "timezone"),
        address=_loose_str(item, "address"),
        city=_loose_str(item, "city"),
        state=_loose_str(item, "state"),
        country=_loose_str(item, "country"),
        postal_code=_loose_str(item, "postalCode"),
        company_id=_loose_str(item, "companyId"),
        raw=item,
    )
