"""OAuth as HighLevel does it: the consent page, the token endpoint (code and refresh grants, single-use
rotating refresh tokens), location tokens for agency installs, and the installed-locations listing."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .auth import authorize
from .http import ApiError, Request, Response, fail, html_response, int_param, json_response, redirect
from .state import Sandbox
from .tokens import ACCESS_TTL, CODE_TTL

PLAN_ID = "sandbox-plan"


def _oauth_error(status: int, code: str, description: str) -> ApiError:
    return ApiError(json_response(status, {"error": code, "error_description": description}))


# --- consent page -----------------------------------------------------------------------------------
def _check_consent_params(sb: Sandbox, params: dict[str, str]) -> Response | None:
    problems = []
    if params.get("client_id") != sb.config.client_id:
        problems.append("client_id is missing or unknown")
    if not params.get("redirect_uri"):
        problems.append("redirect_uri is missing")
    if params.get("response_type", "code") != "code":
        problems.append("response_type must be code")
    if not problems:
        return None
    items = "".join(f"<li>{escape(p)}</li>" for p in problems)
    body = f"<h1>Invalid authorization request</h1><ul>{items}</ul>"
    return html_response(400, _page("Invalid authorization request", body))


def consent_page(sb: Sandbox, req: Request) -> Response:
    params = req.query
    problem = _check_consent_params(sb, params)
    if problem:
        return problem
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(params.get(name, ""))}">'
        for name in ("client_id", "redirect_uri", "scope", "state", "response_type")
    )
    scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in params.get("scope", "").split())
    sections = []
    for agency in sb.skeleton.agencies.values():
        rows = []
        for location_id in agency.location_ids:
            location = sb.skeleton.locations[location_id]
            label = escape(f"Approve location {location.name}")
            rows.append(
                f'<li><span>{escape(location.name)} <small>({escape(location.timezone)})</small></span> '
                f'<button type="submit" name="choice" value="location:{location.id}" aria-label="{label}">'
                "Approve</button></li>"
            )
        label = escape(f"Approve agency {agency.name}")
        sections.append(
            f'<section aria-labelledby="agency-{agency.id}"><h2 id="agency-{agency.id}">{escape(agency.name)}</h2>'
            f'<p><button type="submit" name="choice" value="company:{agency.id}" aria-label="{label}">'
            f"Approve agency (all {len(agency.location_ids)} locations)</button></p>"
            f'<ul aria-label="Locations of {escape(agency.name)}">{"".join(rows)}</ul></section>'
        )
    body = (
        f"<h1>Connect {escape(params['client_id'])}</h1>"
        f"<p>This app asks for:</p><ul>{scopes or '<li>no scopes</li>'}</ul>"
        "<p>Choose an agency (Company install) or a single location (Location install).</p>"
        f'<form method="post" action="/oauth/chooselocation">{hidden}{"".join(sections)}'
        '<p><button type="submit" name="choice" value="deny">Deny</button></p></form>'
    )
    return html_response(200, _page("Choose an account", body))


def consent_submit(sb: Sandbox, req: Request) -> Response:
    params = req.form()
    problem = _check_consent_params(sb, params)
    if problem:
        return problem
    extra = {"state": params["state"]} if params.get("state") else {}
    choice = params.get("choice", "deny")
    if choice == "deny":
        return redirect(_with_query(params["redirect_uri"], {"error": "access_denied", **extra}))
    kind, _, resource_id = choice.partition(":")
    with sb.lock:
        if kind == "company" and resource_id in sb.skeleton.agencies:
            agency = sb.skeleton.agencies[resource_id]
            target = {"user_type": "Company", "company_id": agency.id, "location_id": None, "user_id": agency.user_id}
        elif kind == "location" and resource_id in sb.skeleton.locations:
            location = sb.skeleton.locations[resource_id]
            target = {"user_type": "Location", "company_id": location.company_id, "location_id": location.id,
                      "user_id": sb.skeleton.agencies[location.company_id].user_id}
        else:
            return html_response(400, _page("Unknown choice", "<h1>Unknown account</h1>"))
        sb.install(resource_id)
        code = sb.tokens.add_code(sb.now(), scopes=frozenset(params.get("scope", "").split()),
                                  redirect_uri=params["redirect_uri"], **target)
    return redirect(_with_query(params["redirect_uri"], {"code": code.code, **extra}))


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · HighLevel sandbox</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font:16px system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}"
        "section{border:1px solid #ccc;border-radius:.5rem;padding:0 1rem;margin:1rem 0}"
        "li{margin:.4rem 0}button{font:inherit;padding:.3rem .8rem;margin-left:.5rem}"
        "button:focus{outline:3px solid #1a5fb4}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


# --- token endpoint ---------------------------------------------------------------------------------
def token(sb: Sandbox, req: Request) -> Response:
    form = req.form()
    if not form:
        raise _oauth_error(400, "invalid_request", "Send the body as application/x-www-form-urlencoded.")
    if form.get("client_id") != sb.config.client_id or form.get("client_secret") != sb.config.client_secret:
        raise _oauth_error(401, "invalid_client", "Client authentication failed.")
    grant_type = form.get("grant_type")
    with sb.lock:
        now = sb.now()
        if grant_type == "authorization_code":
            code = sb.tokens.codes.get(form.get("code", ""))
            if code is None or code.used or now - code.issued_at > CODE_TTL:
                raise _oauth_error(400, "invalid_grant", "The authorization code is invalid, used or expired.")
            if form.get("redirect_uri") and form["redirect_uri"] != code.redirect_uri:
                raise _oauth_error(400, "invalid_grant", "redirect_uri does not match the authorization request.")
            code.used = True
            source = code
        elif grant_type == "refresh_token":
            source = sb.tokens.refresh.get(form.get("refresh_token", ""))
            if source is None:
                raise _oauth_error(400, "invalid_grant", "Invalid refresh token.")
            if source.used:
                sb.counters["refresh_token_reuse"] += 1
                raise _oauth_error(400, "invalid_grant", "This refresh token has already been used.")
            if source.revoked or now >= source.expires_at:
                raise _oauth_error(400, "invalid_grant", "This refresh token is revoked or expired.")
            source.used = True
        else:
            raise _oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")
        grant, refresh = sb.tokens.issue_pair(
            now, user_type=source.user_type, company_id=source.company_id, location_id=source.location_id,
            scopes=source.scopes, app_id=sb.config.app_id, user_id=source.user_id)
        sb.grant_counts[grant_type] += 1
        answer = {
            "access_token": grant.token, "token_type": "Bearer", "expires_in": ACCESS_TTL,
            "refresh_token": refresh.token, "scope": " ".join(sorted(grant.scopes)),
            "userType": grant.user_type, "companyId": grant.company_id, "userId": grant.user_id,
            "isBulkInstallation": grant.user_type == "Company", "planId": PLAN_ID,
        }
        if grant.location_id:
            answer["locationId"] = grant.location_id
        else:
            agency = sb.skeleton.agencies[grant.company_id]
            answer["approvedLocations"] = [i for i in agency.location_ids if sb.installed.get(i)]
    return json_response(200, answer)


# --- agency routes ----------------------------------------------------------------------------------
def location_token(sb: Sandbox, req: Request) -> Response:
    agency = authorize(sb, req, scopes=("oauth.write",), company_route=True)
    form = req.form()
    company_id, location_id = form.get("companyId", ""), form.get("locationId", "")
    if not company_id or not location_id:
        raise fail(422, ["companyId should not be empty", "locationId should not be empty"])
    if company_id != agency.company_id:
        raise fail(403, "The token does not have access to this company.")
    with sb.lock:
        location = sb.skeleton.locations.get(location_id)
        if location is None or location.company_id != company_id:
            raise fail(400, "Location not found for this company.")
        if not sb.installed.get(location_id):
            raise fail(400, "The app is not installed for this location.")
        grant = sb.tokens.issue_location_token(sb.now(), agency, location_id)
        sb.counters["location_tokens_minted"] += 1
    return json_response(200, {
        "access_token": grant.token, "token_type": "Bearer", "expires_in": ACCESS_TTL,
        "scope": " ".join(sorted(grant.scopes)), "userType": "Location", "companyId": company_id,
        "locationId": location_id, "userId": grant.user_id, "planId": PLAN_ID,
    })


def installed_locations(sb: Sandbox, req: Request) -> Response:
    grant = authorize(sb, req, scopes=("oauth.readonly", "oauth.write"), company_route=True)
    q = req.query
    if q.get("companyId") != grant.company_id:
        raise fail(403, "The token does not have access to this company.")
    if q.get("appId") != sb.config.app_id:
        raise fail(400, "Invalid appId.")
    skip, limit = int_param(q, "skip", 0, 0), min(int_param(q, "limit", 20, 1), 100)
    only_installed = q.get("isInstalled", "").lower() == "true"
    with sb.lock:
        rows = []
        for location_id in sb.skeleton.agencies[grant.company_id].location_ids:
            location, installed_at = sb.skeleton.locations[location_id], sb.installed.get(location_id)
            if only_installed and not installed_at:
                continue
            rows.append({"_id": location.id, "name": location.name, "address": location.address,
                         "isInstalled": bool(installed_at), "installedAt": installed_at})
    return json_response(200, {"locations": rows[skip:skip + limit], "count": len(rows)})

