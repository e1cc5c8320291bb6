"""HighLevel's posts (`POST .../posts/list`) -> types.Post, with v3's `insights` (absent kept apart from 0)."""

from __future__ import annotations

from typing import Any

from integrations.highlevel.errors import BadResponse
from integrations.highlevel.parsing.readers import (
    _identified,
    _items,
    _list,
    _number,
    _obj,
    _results,
    _str,
    _str_list,
    parse_datetime,
)
from integrations.highlevel.types import Post, PostInsights

INSIGHT_KEYS = ("like", "share", "comment")


def parse_post(item: Any) -> Post:
    """A post. Without a usable `_id`, tags or dates it is a malformed item (a listing problem); a malformed
    `insights`, `error` or `thumbnail` only is read as "not available" and named in `Post.problems`."""
    item, post_id = _identified(item, "post")
    account_ids = _str_list(item.get("accountIds"), "accountIds")
    if not account_ids and isinstance(item.get("accountId"), str) and item["accountId"]:
        account_ids = (item["accountId"],)
    elif isinstance(item.get("accountId"), str) and item["accountId"] and item["accountId"] != account_ids[0]:
        account_ids = (item["accountId"], *(a for a in account_ids if a != item["accountId"]))
    tags = item.get("tags")
    # *unverified*: tags are documented as ids; tolerate embedded tag objects too.
    if isinstance(tags, list):
        tag_ids = tuple(t if isinstance(t, str) else str(_obj(t, "tags[]").get("_id") or "") for t in tags)
        if "" in tag_ids:
            raise BadResponse("a tag of the post has no id")
    else:
        tag_ids = _str_list(tags, "tags")
    problems: list[str] = []
    insights = _insights(item, problems)
    return Post(
        id=post_id,
        status=_str(item, "status"),
        platform=(_str(item, "platform") or "").lower() or None,
        tag_ids=tag_ids,
        account_ids=account_ids,
        summary=_str(item, "summary"),
        post_type=_str(item, "postType") or _str(item, "type"),
        published_at=parse_datetime(item.get("publishedAt"), "publishedAt"),
        scheduled_at=parse_datetime(item.get("scheduleDate"), "scheduleDate"),
        display_date=parse_datetime(item.get("displayDate"), "displayDate"),
        created_at=parse_datetime(item.get("createdAt"), "createdAt"),
        updated_at=parse_datetime(item.get("updatedAt"), "updatedAt"),
        error=_post_error(item, problems),
        thumbnail=_thumbnail(item, problems),
        insights=insights,
        problems=tuple(f"post {post_id}: {line}" for line in problems),
        raw=item,
    )


def _insights(item: dict[str, Any], problems: list[str]) -> PostInsights | None:
    """`insights {like, share, comment}`: absent or null is None (not available); a count left out is None."""
    raw = item.get("insights")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append("'insights' is not an object; read as not available")
        return None
    counts: dict[str, int | None] = {}
    for key in INSIGHT_KEYS:
        value = raw.get(key)
        try:
            number = _number(value, f"insights.{key}")
        except BadResponse:
            number = None
            problems.append(f"insights.{key} is not a number ({str(value)[:20]!r}); read as not available")
        if number is not None and (number < 0 or number != int(number)):
            problems.append(f"insights.{key} is not a whole count ({number!r}); read as not available")
            number = None
        counts[key] = None if number is None else int(number)
    return PostInsights(**counts)


def _post_error(item: dict[str, Any], problems: list[str]) -> str | None:
    value = item.get("error")
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, dict) and isinstance(value.get("message"), str):  # *unverified*: an error object
        return value["message"] or None
    problems.append("'error' is neither a string nor an object with a message; kept as JSON")
    return str(value)[:500]


def _thumbnail(item: dict[str, Any], problems: list[str]) -> str | None:
    value = item.get("thumbnail")
    if isinstance(value, dict):  # *unverified*: a media object rather than its URL
        value = value.get("url")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        problems.append("'thumbnail' is not an http(s) URL; left out")
        return None
    return value


def parse_post_page(body: Any) -> tuple[list[Post], list[str], int]:
    raw_items = _list(_results(body).get("posts"), "results.posts")
    posts, problems = _items(raw_items, parse_post, "posts")
    return posts, problems, len(raw_items)
