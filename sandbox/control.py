"""The /_sandbox control API: JSON in and out, no auth; for tests, benchmarks and demos only."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

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
                if "frozen" in body and not isinstance(body["frozen"], bool):
                    raise ValueError("frozen must be true or false")
                if "now" in body:
                    sb.clock.set(parse_iso(str(body["now"])))
                else:
                    sb.clock.advance(float(body.get("advance_seconds", 0)))
                if "frozen" in body:
                    sb.clock.freeze(body["frozen"])
            except (TypeError, ValueError) as exc:
                return _bad(str(exc))
        now = sb.now()
        return json_response(200, {"now": data.iso(now), "today": now.date().isoformat(),
                                   "anchor": data.iso(sb.anchor), "frozen": sb.clock.frozen})


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


def posts_plant(sb: Sandbox, req: Request, body: dict, location_id: str) -> Response:
    """Add posts as given (`{"posts": [{"id", "platform", "status", "publishedAt", "tags", "insights"}]}`),
    each on the location's first account of its platform; a post with an existing id replaces it."""
    specs = body.get("posts")
    if not isinstance(specs, list) or not all(isinstance(p, dict) and p.get("id") for p in specs):
        return _bad("posts must be a list of objects, each with an id")
    with sb.lock:
        made = sb.location(location_id)
        if made is None:
            return _bad("unknown location", 404)
        stored = sb.posts(location_id)
        planted = []
        for spec in specs:
            account = next((a for a in made.accounts if a["platform"] == spec.get("platform")), None)
            if account is None:
                return _bad(f"the location has no {spec.get('platform')!r} account")
            post = posts.plant(location_id, account, spec, sb.now())
            stored[:] = [p for p in stored if p["_id"] != post["_id"]]
            stored.append(post)
            planted.append(post["_id"])
        stored.sort(key=lambda p: p["scheduleDate"], reverse=True)
    return json_response(201, {"planted": planted})


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


# --- planted faults (goals and health): an expired account, a failed post, an empty schedule, a drop ------------
def account_health(sb: Sandbox, req: Request, body: dict, location_id: str, account_id: str) -> Response:
    """POST {"isExpired": true} expires an account, {"expire_in_days": N} moves its expiry, {"isExpired": false}
    with a later expiry renews it."""
    with sb.lock:
        made = sb.location(location_id)
        account = next((a for a in (made.accounts if made else []) if a["id"] == account_id), None)
        if account is None:
            return _bad("unknown location or account", 404)
        if "isExpired" in body:
            if not isinstance(body["isExpired"], bool):
                return _bad("isExpired must be true or false")
            account["isExpired"] = body["isExpired"]
            if not body["isExpired"] and "expire_in_days" not in body:
                account["expire"] = data.iso(sb.now() + timedelta(days=60))
        if "expire_in_days" in body:
            try:
                days = float(body["expire_in_days"])
            except (TypeError, ValueError):
                return _bad("expire_in_days must be a number")
            account["expire"] = data.iso(sb.now() + timedelta(days=days))
        return json_response(200, {"account": account})


def post_fail(sb: Sandbox, req: Request, body: dict, location_id: str) -> Response:
    """POST: a post of the location's first account failed an hour ago, with `error` (HighLevel's text);
    DELETE: every planted failed post went out after all (published)."""
    with sb.lock:
        made = sb.location(location_id)
        if made is None or not made.accounts:
            return _bad("unknown location", 404)
        items = sb.posts(location_id)
        if req.method == "DELETE":
            fixed = [p for p in items if p.get("_planted") and p["status"] == "failed"]
            for post in fixed:
                post.update(status="published", error=None, publishedAt=data.iso(sb.now()),
                            updatedAt=data.iso(sb.now()))
            return json_response(200, {"published": [p["_id"] for p in fixed]})
        account = made.accounts[0]
        when = sb.now() - timedelta(hours=1)
        post_id = object_id(_ids, when.timestamp())
        error = str(body.get("error") or posts.ERRORS.get(account["platform"], ["Publishing failed."])[0])
        post = {"_id": post_id, "locationId": location_id, "source": "composer", "platform": account["platform"],
                "accountId": account["id"], "accountIds": [account["id"]], "postType": "post", "type": "post",
                "status": "failed", "error": error, "summary": "A planted failure", "media": [], "thumbnail": None,
                "tags": [], "createdBy": sb.skeleton.locations[location_id].user_ids[0],
                "scheduleDate": data.iso(when), "displayDate": data.iso(when), "publishedAt": None,
                "createdAt": data.iso(when - timedelta(days=1)), "updatedAt": data.iso(when), "_planted": True}
        items.insert(0, post)
        return json_response(201, {"post": {k: v for k, v in post.items() if k != "_planted"}})


def schedule(sb: Sandbox, req: Request, body: dict, location_id: str) -> Response:
    """POST: the location's scheduled posts are taken off (nothing planned); DELETE: they come back."""
    with sb.lock:
        made = sb.location(location_id)
        if made is None:
            return _bad("unknown location", 404)
        items = sb.posts(location_id)
        if req.method == "DELETE":
            back = sb.unscheduled.pop(location_id, [])
            items.extend(back)
            items.sort(key=lambda p: p["scheduleDate"], reverse=True)
            return json_response(200, {"restored": len(back)})
        now = data.iso(sb.now())
        taken = [p for p in items if p["status"] == "scheduled" and p["scheduleDate"] > now]
        items[:] = [p for p in items if p not in taken]
        sb.unscheduled.setdefault(location_id, []).extend(taken)
        return json_response(200, {"removed": len(taken)})


def metric_drop(sb: Sandbox, req: Request, body: dict, location_id: str) -> Response:
    """POST {"metric": "impressions", "factor": 0.5, "from": "YYYY-MM-DD" (default yesterday), "platform": ""}
    multiplies the metric from that day on (every account, or one platform's); DELETE removes every drop."""
    with sb.lock:
        if sb.location(location_id) is None:
            return _bad("unknown location", 404)
        if req.method == "DELETE":
            return json_response(200, {"removed": len(sb.drops.pop(location_id, []))})
        metric = str(body.get("metric", ""))
        if metric not in ("impressions", "reach", "likes", "comments", "shares", "followers", "posts",
                          "engagement"):
            return _bad("metric must be a statistics metric")
        try:
            factor = float(body.get("factor", 0.5))
            start = date.fromisoformat(str(body["from"])) if body.get("from") else (
                sb.now().date() - timedelta(days=1))
        except (TypeError, ValueError):
            return _bad("factor must be a number and from a YYYY-MM-DD date")
        drop = {"metric": metric, "factor": factor, "from": start.isoformat(),
                "platform": str(body.get("platform") or "")}
        sb.drops.setdefault(location_id, []).append(drop)
        return json_response(201, {"drop": drop})


_ROUTES = [
    ("GET", r"/_sandbox/state", state),
    ("POST", r"/_sandbox/reset", reset),
    ("GET|POST|DELETE", r"/_sandbox/faults", faults),
    ("DELETE", r"/_sandbox/faults/(?P<fault_id>\d+)", fault_delete),
    ("GET|POST", r"/_sandbox/clock", clock),
    ("GET|POST", r"/_sandbox/versions", versions),
    ("GET|POST", r"/_sandbox/locations/(?P<location_id>[^/]+)/tags", tags),
    ("PATCH|DELETE", r"/_sandbox/locations/(?P<location_id>[^/]+)/tags/(?P<tag_id>[^/]+)", tags),
    ("POST", r"/_sandbox/locations/(?P<location_id>[^/]+)/posts", posts_plant),
    ("POST", r"/_sandbox/tokens/(?P<action>expire|revoke)", tokens),
    ("POST", r"/_sandbox/apps/(?P<resource_id>[^/]+)/(?P<action>install|uninstall)", apps),
    ("GET", r"/_sandbox/stats", stats),
    ("POST", r"/_sandbox/stats/reset", stats),
    ("POST", r"/_sandbox/webhooks/send", webhook_send),
    ("POST", r"/_sandbox/locations/(?P<location_id>[^/]+)/accounts/(?P<account_id>[^/]+)", account_health),
    ("POST|DELETE", r"/_sandbox/locations/(?P<location_id>[^/]+)/posts/failed", post_fail),
    ("POST|DELETE", r"/_sandbox/locations/(?P<location_id>[^/]+)/schedule/empty", schedule),
    ("POST|DELETE", r"/_sandbox/locations/(?P<location_id>[^/]+)/statistics/drops", metric_drop),
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
