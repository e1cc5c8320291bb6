"""The locations of a connection: kept from an install or a token, discovered for an agency, and their
name, time zone and address read from HighLevel; and the sync schedules that follow them."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from integrations.connections.errors import explain
from integrations.connections.tokens import ConnectionUnusable, client_for_connection, client_for_location
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.errors import HighLevelError, ScopeError
from integrations.models import Connection, Location

log = logging.getLogger(__name__)


def schedules_follow() -> None:
    """A new connection gets its sync schedules now, not at the next pass of `tagscope.sync-schedules`:
    a new schedule is due at once, so the first refresh starts at the scheduler's next tick."""
    from integrations.schedules import ensure_schedules

    ensure_schedules()


def location_upsert(connection: Connection, *, location_id: str, name: str, timezone_name: str = "",
                     address: str = "", installed_at=None) -> Location:
    location, created = Location.objects.get_or_create(
        location_id=location_id,
        defaults={"connection": connection, "company_id": connection.company_id,
                  "name": name or f"Location {location_id}", "timezone": timezone_name or "UTC",
                  "address": address or "", "installed_at": installed_at or timezone.now()},
    )
    if not created:
        changed = {"connection": connection, "is_installed": True, "uninstalled_at": None}
        if name:
            changed["name"] = name
        if timezone_name:
            changed["timezone"] = timezone_name
        if address:
            changed["address"] = address
        if connection.company_id:
            changed["company_id"] = connection.company_id
        for key, value in changed.items():
            setattr(location, key, value)
        location.save()
    return location


def agency_locations_discover(*, connection_id: int, client: HighLevelClient | None = None) -> list[Location]:
    """List where the app is installed in the agency and keep a Location for each (tokens are minted on use)."""
    connection = Connection.objects.get(pk=connection_id)
    if connection.kind != Connection.Kind.OAUTH_AGENCY:
        return list(connection.locations.all())
    client = client or client_for_connection(connection)
    installed = list(client.iter_installed_locations(connection.company_id))  # HTTP before any write
    locations = [
        location_upsert(connection, location_id=item.id, name=item.name, address=item.address or "",
                         installed_at=item.installed_at)
        for item in installed if item.is_installed
    ]
    seen = {item.id for item in installed if item.is_installed}
    Location.objects.filter(connection=connection, is_installed=True).exclude(location_id__in=seen).update(
        is_installed=False, uninstalled_at=timezone.now(), token_enc="", token_expires_at=None
    )
    for location in locations:
        location_details_refresh(location=location)
    schedules_follow()  # again, now that the locations its schedules refresh are known
    return locations


def location_details_refresh(
    *, location: Location, client: HighLevelClient | None = None, keep_name: bool = False
) -> bool:
    """Fill the location's real name, time zone and address from `GET /locations/{locationId}`.

    Best effort: a token without `locations.readonly` (ScopeError), any other HighLevel error or an unusable
    connection keeps the current values and logs a warning; it never raises for those, so a connect never
    fails on it. `keep_name` keeps a name an admin typed. Returns whether anything changed."""
    try:
        info = (client or client_for_location(location)).get_location(location.location_id)
    except ScopeError:
        log.warning("location %s: the token lacks locations.readonly; its name and time zone stay as they are "
                    "(dates show in %s)", location.location_id, location.timezone)
        return False
    except (HighLevelError, ConnectionUnusable) as exc:
        log.warning("location %s: its details could not be read (%s); current values kept",
                    location.location_id, explain(exc))
        return False
    changed: dict[str, str] = {}
    if info.name and not keep_name:
        changed["name"] = info.name[: Location._meta.get_field("name").max_length]
    if info.timezone and _is_time_zone(info.timezone):
        changed["timezone"] = info.timezone
    elif info.timezone:
        log.warning("location %s: HighLevel's time zone %r is unknown here; %s kept",
                    location.location_id, info.timezone, location.timezone)
    address = info.one_line_address
    if address:
        changed["address"] = address[: Location._meta.get_field("address").max_length]
    changed = {key: value for key, value in changed.items() if getattr(location, key) != value}
    if not changed:
        return False
    Location.objects.filter(pk=location.pk).update(**changed, updated_at=timezone.now())
    for key, value in changed.items():
        setattr(location, key, value)
    return True


def _is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
