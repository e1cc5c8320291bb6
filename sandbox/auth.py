"""The checks every API route makes, in HighLevel's order: bearer token, Version header, rate limit,
scope, then whose resource it is."""

from __future__ import annotations

from .http import ApiError, Request, error, fail
from .state import Sandbox
from .tokens import Grant
from .versions import REFUSAL, is_v3

INVALID_TOKEN = "Invalid token: access token is invalid"
SCOPE_MESSAGE = "The token is not authorized for this scope."
COMPANY_ON_LOCATION_ROUTE = (
    "This route needs a Location token (userType Location, a minted location token or a location's "
    "Private Integration token); agency (Company) tokens cannot call Social Planner routes."
)


def bearer(req: Request) -> str:
    header = req.header("authorization") or ""
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def authorize(sb: Sandbox, req: Request, *, scopes: tuple[str, ...], location_id: str | None = None,
              company_route: bool = False) -> Grant:
    with sb.lock:
        grant = sb.tokens.grants.get(bearer(req))
        valid = grant is not None and grant.valid(sb.now())
    if not valid:
        raise fail(401, INVALID_TOKEN)
    if not req.header("version"):
        raise fail(400, "Version header was not found")
    if sb.refuse_v3 and is_v3(req):
        raise fail(400, REFUSAL)
    with sb.lock:
        decision = sb.limiter.hit(grant.app_id, grant.resource, sb.now().date().isoformat())
    req.extra_headers.update(decision.headers)
    if not decision.allowed:
        raise ApiError(error(429, "Too Many Requests", with_error=False))
    if not grant.scopes & set(scopes):
        raise fail(403, SCOPE_MESSAGE)
    if location_id is not None:
        if grant.user_type == "Company":
            raise fail(403, COMPANY_ON_LOCATION_ROUTE)
        if grant.location_id != location_id:
            raise fail(403, "The token does not have access to this location.")
    if company_route and grant.user_type != "Company":
        raise fail(403, "This route needs an agency (Company) token.")
    return grant
