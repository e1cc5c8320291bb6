"""The Locations API: GET /locations/{locationId}, the location's own details (name, time zone, address).

Scope `locations.readonly` (or `locations.write`). Either a location token for that location (an OAuth
Location token, a minted location token, or its Private Integration token) or an agency token whose
company owns the location may read it. Minted location tokens carry the agency's scopes, so an agency
install that asked for `locations.readonly` can read every installed location with its minted tokens."""

from __future__ import annotations

from .auth import authorize
from .http import Request, Response, fail, json_response
from .state import Sandbox

LOCATION_READ = ("locations.readonly", "locations.write")
NO_ACCESS = "The token does not have access to this location."


def location_details(sb: Sandbox, req: Request, location_id: str) -> Response:
    grant = authorize(sb, req, scopes=LOCATION_READ)
    with sb.lock:
        location = sb.skeleton.locations.get(location_id)
        if grant.user_type == "Company":
            if location is None or location.company_id != grant.company_id:
                raise fail(403, NO_ACCESS)
        elif grant.location_id != location_id:
            raise fail(403, NO_ACCESS)
        if location is None:  # a location token outliving a reset into a world without its location
            raise fail(400, "Location not found.")
        details = location.details()
    return json_response(200, {"location": details})
