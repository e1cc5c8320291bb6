"""The WSGI app: routes HighLevel paths and /_sandbox control paths, applies injected faults, counts
requests, and adds the trace id and rate-limit headers to every API answer."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable

from . import control, locations, oauth, social, statistics
from .faults import MALFORMED_BODIES
from .http import ApiError, Request, Response, error
from .state import Sandbox

log = logging.getLogger(__name__)

_LOC = r"(?P<location_id>[^/]+)"
ROUTES: list[tuple[str, str, Callable]] = [
    ("GET", "/oauth/chooselocation", oauth.consent_page),
    ("POST", "/oauth/chooselocation", oauth.consent_submit),
    # The marketplace serves the consent page under /v2 too; either base works as HIGHLEVEL_AUTHORIZE_URL.
    ("GET", "/v2/oauth/chooselocation", oauth.consent_page),
    ("POST", "/v2/oauth/chooselocation", oauth.consent_submit),
    ("POST", "/oauth/token", oauth.token),
    ("POST", "/oauth/locationToken", oauth.location_token),
    ("GET", "/oauth/installedLocations", oauth.installed_locations),
    ("GET", "/locations/{locationId}", locations.location_details),
    ("POST", "/social-media-posting/statistics", statistics.statistics),
    ("GET", "/social-media-posting/{locationId}/tags", social.list_tags),
    ("POST", "/social-media-posting/{locationId}/tags/details", social.tag_details),
    ("GET", "/social-media-posting/{locationId}/accounts", social.accounts),
    ("POST", "/social-media-posting/{locationId}/posts/list", social.list_posts),
]
_COMPILED = [
    (method, template, re.compile(re.escape(template).replace(re.escape("{locationId}"), _LOC) + r"/?\Z"), handler)
    for method, template, handler in ROUTES
]


def _match(req: Request):
    for method, template, pattern, handler in _COMPILED:
        found = pattern.match(req.path)
        if found and method == req.method:
            return f"{method} {template}", handler, found.groupdict()
    return None, None, {}


def make_app(sb: Sandbox):
    def app(environ, start_response):
        req = Request.from_environ(environ)
        if req.path.startswith("/_sandbox/"):
            response = control.dispatch(sb, req)
        else:
            req.extra_headers["X-Trace-Id"] = str(uuid.uuid4())
            response = _api(sb, req)
        headers = {**response.headers, **req.extra_headers, "Content-Length": str(len(response.body))}
        start_response(response.status_line(), list(headers.items()))
        return [response.body]

    return app


def _api(sb: Sandbox, req: Request) -> Response:
    name, handler, params = _match(req)
    location_id = params.get("location_id") or req.query.get("locationId")
    with sb.lock:
        sb.requests["total"] += 1
        sb.requests[name or "unmatched"] += 1
        outcome = sb.faults.decide(req.path, location_id)
        if outcome.kind:
            sb.counters["fault:" + outcome.kind] += 1
    if outcome.delay:
        time.sleep(outcome.delay)
    if outcome.kind == "timeout":
        time.sleep(outcome.hang)
        _drop(req)
    if outcome.kind == "error":
        response = error(outcome.status, _PHRASES[outcome.status], with_error=False)
    elif outcome.kind == "rate_limit":
        response = error(429, "Too Many Requests", with_error=False)
        req.extra_headers.update(sb.limiter.storm_headers())
    elif outcome.kind == "malformed":
        response = Response(200, MALFORMED_BODIES[outcome.variant], {"Content-Type": "application/json"})
    else:
        response = _handle(sb, req, handler, params)
        if outcome.kind == "truncated" and len(response.body) > 1:
            response.status = 200
            response.body = response.body[: len(response.body) // 2]
    if response.status == 429:
        with sb.lock:
            sb.counters["rate_limited"] += 1
    return response


def _handle(sb: Sandbox, req: Request, handler, params) -> Response:
    if handler is None:
        return error(404, f"Cannot {req.method} {req.path}")
    try:
        return handler(sb, req, **params)
    except ApiError as exc:
        return exc.response
    except Exception:
        log.exception("sandbox handler failed for %s %s", req.method, req.path)
        return error(500, "Internal server error", with_error=False)


def _drop(req: Request) -> None:
    """Close the connection without an answer, as a hung upstream finally does."""
    connection = req.environ.get("sandbox.connection")
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("sandbox timeout fault")


_PHRASES = {500: "Internal server error", 502: "Bad Gateway", 503: "Service Unavailable"}
