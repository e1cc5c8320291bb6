"""Social Planner routes: tags, tag details, accounts and posts, with HighLevel's shapes and statuses.

Posts follow the contract of the request's Version header: `insights` only under v3 (posts.py).

Paging: `limit` defaults to 100 for tags and 10 for posts and is clamped to 100 without complaint (HighLevel
documents no maximum); `skip` is an offset. `results.count` is the number of matches, not the page size."""

from __future__ import annotations

from . import posts as post_bodies
from .auth import authorize
from .http import BadBody, Request, Response, fail, int_param, json_response
from .state import Sandbox, parse_iso

TAG_READ = ("socialplanner/tag.readonly", "socialplanner/tag.write")
ACCOUNT_READ = ("socialplanner/account.readonly", "socialplanner/account.write")
POST_READ = ("socialplanner/post.readonly", "socialplanner/post.write")
MAX_LIMIT = 100
POST_TYPES = {"all", "recent", "published", "scheduled", "failed", "draft"}


def _ok(status: int, message: str, results: dict, *, plain: bool = True) -> Response:
    """`plain`: the results hold no float (tags, accounts and generated posts have none: json_response)."""
    return json_response(status, {"success": True, "statusCode": status, "message": message, "results": results},
                         plain=plain)


def _location(sb: Sandbox, location_id: str):
    made = sb.location(location_id)
    if made is None:  # only reachable with a token for a location that no longer exists after a reset
        raise fail(400, "Location not found.")
    return made


def list_tags(sb: Sandbox, req: Request, location_id: str) -> Response:
    authorize(sb, req, scopes=TAG_READ, location_id=location_id)
    skip = int_param(req.query, "skip", 0, 0)
    limit = min(int_param(req.query, "limit", MAX_LIMIT, 1), MAX_LIMIT)
    needle = req.query.get("searchText", "").strip().lower()
    with sb.lock:
        tags = _location(sb, location_id).tags.values()
        matches = [t for t in tags if needle in t["tag"].lower()] if needle else list(tags)
        page = [dict(t) for t in matches[skip:skip + limit]]  # tag values are immutable
    return _ok(200, "Fetched Tags by Location ID", {"tags": page, "count": len(matches)})


def tag_details(sb: Sandbox, req: Request, location_id: str) -> Response:
    authorize(sb, req, scopes=TAG_READ, location_id=location_id)
    try:
        body = req.json()
    except BadBody:
        raise fail(400, "Bad Request", with_error=False) from None
    ids = body.get("tagIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise fail(422, ["tagIds must be an array of strings"])
    with sb.lock:
        tags = _location(sb, location_id).tags
        found = [dict(tags[i]) for i in dict.fromkeys(ids) if i in tags]
    return _ok(201, "Fetched Tags by Tag IDs", {"tags": found, "count": len(found)})


def accounts(sb: Sandbox, req: Request, location_id: str) -> Response:
    authorize(sb, req, scopes=ACCOUNT_READ, location_id=location_id)
    with sb.lock:  # written under the lock: the control API changes accounts in place
        made = _location(sb, location_id)
        return _ok(200, "Fetched Accounts", {"accounts": made.accounts, "groups": made.groups})


def list_posts(sb: Sandbox, req: Request, location_id: str) -> Response:
    authorize(sb, req, scopes=POST_READ, location_id=location_id)
    try:
        body = req.json()
    except BadBody:
        raise fail(400, "Bad Request", with_error=False) from None
    if not isinstance(body, dict):
        raise fail(422, ["body must be an object"])
    problems = []
    window = []
    for name in ("fromDate", "toDate"):
        try:
            window.append(parse_iso(str(body[name])))
        except (KeyError, ValueError):
            problems.append(f"{name} must be a valid ISO 8601 date string")
    post_type = str(body.get("type") or "all")
    if post_type not in POST_TYPES:
        problems.append(f"type must be one of the following values: {', '.join(sorted(POST_TYPES))}")
    if problems:
        raise fail(422, problems)
    skip = int_param(body, "skip", 0, 0)
    limit = min(int_param(body, "limit", 10, 1), MAX_LIMIT)
    accounts_filter = body.get("accounts") or []
    if isinstance(accounts_filter, str):
        accounts_filter = [a for a in accounts_filter.split(",") if a]
    include_users = str(body.get("includeUsers", "false")).lower() == "true"
    start, end = window
    base_url = f"{req.environ.get('wsgi.url_scheme', 'http')}://{req.header('host') or 'localhost'}"
    with sb.lock:
        posts = sb.posts(location_id)
        made = _location(sb, location_id)
        users = made.users
        profiles = {a["id"]: a["profileId"] for a in made.accounts}
        now, seed = sb.now(), sb.config.seed
        matches = []
        for post in posts:
            if not start <= parse_iso(post["scheduleDate"]) <= end:
                continue
            if post_type == "recent" and post["status"] != "published":
                continue
            if post_type not in ("all", "recent") and post["status"] != post_type:
                continue
            if accounts_filter and post["accountId"] not in accounts_filter:
                continue
            if body.get("postType") and post["postType"] != body["postType"]:
                continue
            matches.append(post)
        # Each answer is a new dict, made under the lock: the control API changes a stored post's own keys
        # (never its lists in place), so nothing read below can move while it is written.
        chosen = matches[skip:skip + limit]
        page = [post_bodies.for_answer(seed, p, profiles.get(p["accountId"], ""), now, version=req.header("version"),
                                       base_url=base_url) for p in chosen]
        planted = any("_planted" in p for p in chosen)
    if include_users:
        for post in page:
            post["user"] = users.get(post["createdBy"])
    # A planted post's fields are the control API caller's JSON, which may hold any number.
    return _ok(200, "Posts fetched", {"posts": page, "count": len(matches)}, plain=not planted)
