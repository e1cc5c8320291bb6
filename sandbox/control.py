"""The /_sandbox control API: JSON in and out, no auth; for tests, benchmarks and demos only."""

from __future__ import annotations

import random
import re
from datetime import timedelta

from . import data, keys, posts, webhooks
from .http import BadBody, Request, Response, json_response
from .ids import object_id
from .state import Sandbox, parse_iso

_ids = random.Random()


def _bad(message: str, status: int = 400) -> Response:
    return json_response(status, {"error": message})


def state(sb: Sandbox, req: Request, body: dict | None = None) -> Response:
    with sb.lock:
        config = sb.config
        agencies = [{"id": a.id, "name": a.name, "userId": a.user_id, "locationIds": list(a.location_ids),
                     "installedAt": sb.company_installed.get(a.id), "pit": sb.pits[a.id]}
                    for a in sb.skeleton.agencies.values()]
        locations = [{**loc.summary(), "installedAt": sb.installed.get(loc.id), "pit": sb.pits[loc.id]}
                     for loc in sb.skeleton.locations.values()]
        payload = {
            "config": config.to_dict(), "client_id": config.client_id, "client_secret": config.client_secret,
            "app_id": config.app_id, "now": data.iso(sb.now()), "agencies": agencies, "locations": locations,
            "private_integration_tokens": dict(sb.pits),
            "webhook_public_key_pem": keys.webhook_public_key_pem(config.seed),
            "webhook_legacy_public_key_pem": keys.legacy_public_key_pem(),
        }
    return json_response(200, payload)


def reset(sb: Sandbox, req: Request, body: dict) -> Response:
    overrides = body.get("config", body)
    try:
        sb.reset(overrides or None)
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return state(sb, req)


def faults(sb: Sandbox, req: Request, body: dict) -> Response:
    with sb.lock:
        if req.method == "POST":
            try:
                rule = sb.faults.add(body)
            except (TypeError, ValueError, re.error) as exc:
                return _bad(str(exc))
            return json_response(201, {"fault": rule.to_dict()})
        if req.method == "DELETE":
            sb.faults.clear()
        return json_response(200, {"faults": [r.to_dict() for r in sb.faults.rules]})


def fault_delete(sb: Sandbox, req: Request, body: dict, fault_id: str) -> Response:
    with sb.lock:
        removed = sb.faults.remove(int(fault_id))
    return json_response(200 if removed else 404, {"removed": removed})


def clock(sb: Sandbox, req: Request, body: dict) -> Response:
    with sb.lock:
        if req.method == "POST":
            try:
                if "now" in body:
                    sb.clock.set(parse_iso(str(body["now"])))
                else:
                    sb.clock.advance(float(body.get("advance_seconds", 0)))
            except (TypeError, ValueError) as exc:
                return _bad(str(exc))
        now = sb.now()
        return json_response(200, {"now": data.iso(now), "today": now.date().isoformat(),
                                   "anchor": data.iso(sb.anchor)})


def tags(sb: Sandbox, req: Request, body: dict, location_id: str, tag_id: str | None = None) -> Response:
    with sb.lock:
        made = sb.location(location_id)
        if made is None:
            return _bad("unknown location", 404)
        now = sb.now()
        if tag_id is None and req.method == "GET":
            everything = list(made.tags.values())
            return json_response(200, {"tags": everything, "count": len(everything)})
        if tag_id is None and req.method == "POST":
            name = str(body.get("tag", "")).strip()
            if not name:
                return _bad("tag is required")
            new_id = object_id(_ids, now.timestamp())
            tag = {"_id": new_id, "tag": name, "locationId": location_id,
                   "createdBy": sb.skeleton.locations[location_id].user_ids[0], "deleted": False,
                   "createdAt": data.iso(now), "updatedAt": data.iso(now)}
            made.tags[new_id] = tag
            return json_response(201, {"tag": tag})
        tag = made.tags.get(tag_id or "")
        if tag is None:
            return _bad("unknown tag", 404)
        if req.method == "PATCH":
            name = str(body.get("tag", "")).strip()
            if not name:
                return _bad("tag is required")
            tag["tag"] = name
        elif req.method == "DELETE":
            if req.query.get("hard") in ("1", "true"):
                del made.tags[tag_id]
                return json_response(200, {"deleted": tag_id, "hard": True})
            tag["deleted"] = True
        else:
            return _bad("method not allowed", 405)
        # updatedAt must move forward even when the sandbox clock was set back or two edits share a millisecond.
        previous = parse_iso(tag["updatedAt"])
        tag["updatedAt"] = data.iso(max(now, previous + timedelta(milliseconds=1)))
        return json_response(200, {"tag": tag})


def tokens(sb: Sandbox, req: Request, body: dict, action: str) -> Response:
    with sb.lock:
        try:
            count = sb.tokens.expire(sb.now(), body) if action == "expire" else sb.tokens.revoke(body)
        except ValueError as exc:
            return _bad(str(exc))
    return json_response(200, {"expired" if action == "expire" else "revoked": count})


def apps(sb: Sandbox, req: Request, body: dict, resource_id: str, action: str) -> Response:
    try:
        ids = sb.install(resource_id) if action == "install" else sb.uninstall(resource_id)
    except KeyError:
        return _bad("unknown location or company", 404)
    return json_response(200, {action + "ed": ids})


def stats(sb: Sandbox, req: Request, body: dict) -> Response:
    with sb.lock:
        if req.method == "POST":
            sb.reset_stats()
        by_endpoint = {k: v for k, v in sb.requests.items() if k != "total"}
        payload = {
            "requests": {"total": sb.requests["total"], "by_endpoint": by_endpoint},
            "resources": {k: dict(v) for k, v in sb.limiter.resources.items()},
            "rate_limited": sb.counters["rate_limited"],
            "token_grants": dict(sb.grant_counts),
            "refresh_token_reuse": sb.counters["refresh_token_reuse"],
            "location_tokens_minted": sb.counters["location_tokens_minted"],
            "faults_injected": {k[6:]: v for k, v in sb.counters.items() if k.startswith("fault:")},
        }
    return json_response(200, payload)


def versions(sb: Sandbox, req: Request, body: dict) -> Response:
    with sb.lock:
        if req.method == "POST":
            if not isinstance(body.get("refuse_v3"), bool):
                return _bad("refuse_v3 must be true or false")
            sb.refuse_v3 = body["refuse_v3"]
        return json_response(200, {"refuse_v3": sb.refuse_v3})


def webhook_send(sb: Sandbox, req: Request, body: dict) -> Response:
    try:
        return json_response(200, webhooks.send(sb, body))
    except ValueError as exc:
        return _bad(str(exc))


def media(sb: Sandbox, req: Request, body: dict, post_id: str) -> Response:
    """The stand-in image of a post's thumbnail and media URLs (posts.py)."""
    return Response(200, posts.thumbnail_svg(post_id), {"Content-Type": "image/svg+xml",
                                                        "Cache-Control": "public, max-age=86400"})


_ROUTES = [
    ("GET", r"/_sandbox/state", state),
    ("POST", r"/_sandbox/reset", reset),
    ("GET|POST|DELETE", r"/_sandbox/faults", faults),
    ("DELETE", r"/_sandbox/faults/(?P<fault_id>\d+)", fault_delete),
    ("GET|POST", r"/_sandbox/clock", clock),
    ("GET|POST", r"/_sandbox/versions", versions),
    ("GET|POST", r"/_sandbox/locations/(?P<location_id>[^/]+)/tags", tags),
    ("PATCH|DELETE", r"/_sandbox/locations/(?P<location_id>[^/]+)/tags/(?P<tag_id>[^/]+)", tags),
    ("POST", r"/_sandbox/tokens/(?P<action>expire|revoke)", tokens),
    ("POST", r"/_sandbox/apps/(?P<resource_id>[^/]+)/(?P<action>install|uninstall)", apps),
    ("GET", r"/_sandbox/stats", stats),
    ("POST", r"/_sandbox/stats/reset", stats),
    ("POST", r"/_sandbox/webhooks/send", webhook_send),
    ("GET", r"/_sandbox/media/(?P<post_id>[0-9a-f]{1,64})\.svg", media),
]
_COMPILED = [(set(m.split("|")), re.compile(p + r"/?\Z"), h) for m, p, h in _ROUTES]


def dispatch(sb: Sandbox, req: Request) -> Response:
    for methods, pattern, handler in _COMPILED:
        match = pattern.match(req.path)
        if match and req.method in methods:
            try:
                body = req.json() if req.body else {}
            except BadBody as exc:
                return _bad(str(exc))
            if not isinstance(body, dict):
                return _bad("body must be a JSON object")
            return handler(sb, req, body, **match.groupdict())
    return _bad(f"no control route {req.method} {req.path}", 404)
