"""HighLevel's OAuth answers (token grants, location tokens, installed locations) and a location's own
record -> types.py's dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.highlevel.errors import BadResponse
from integrations.highlevel.parsing.readers import (
    _bool,
    _identified,
    _int,
    _items,
    _list,
    _obj,
    _str,
    _str_list,
    parse_datetime,
)
from integrations.highlevel.types import (
    InstalledLocation,
    LocationInfo,
    LocationToken,
    TokenGrant,
)


# --- OAuth ----------------------------------------------------------------------------------------------
def _scope(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if not isinstance(value, str):
        raise BadResponse("'scope' is not a string")
    return tuple(value.split())


def _token_fields(body: Any, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body, and the fields every token answer carries (a token grant and a minted location token)."""
    body = _obj(body, what)
    access = _str(body, "access_token", required=True)
    assert access is not None
    return body, {
        "access_token": access, "token_type": _str(body, "token_type") or "Bearer",
        "expires_in": _int(body, "expires_in"), "scope": _scope(body.get("scope")),
        "user_type": _str(body, "userType"), "location_id": _str(body, "locationId"),
        "company_id": _str(body, "companyId"), "raw": body,
    }


def parse_token_grant(body: Any) -> TokenGrant:
    body, fields = _token_fields(body, "token answer")
    return TokenGrant(
        **fields,
        refresh_token=_str(body, "refresh_token"),
        user_id=_str(body, "userId"),
        approved_locations=_str_list(body.get("approvedLocations"), "approvedLocations"),
        is_bulk_installation=_bool(body, "isBulkInstallation"),
        plan_id=_str(body, "planId"),
    )


def parse_location_token(body: Any) -> LocationToken:
    return LocationToken(**_token_fields(body, "location token answer")[1])


def parse_installed_location(item: Any) -> InstalledLocation:
    item, location_id = _identified(item, "location")
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
