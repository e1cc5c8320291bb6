"""Post bodies and their insights, from the seed.

Which posts an account has on a day, and their statuses, come from `data.day_posts` (statistics count the
same posts). Here: what a post looks like (summary, media and thumbnail, tags, a failed post's error) and its
`insights {like, share, comment}`, which only the v3 contract carries. Insights are a pure function of
(seed, post, sandbox time): HighLevel fills them "asynchronously", so they are absent for the first hours
after publication, then grow towards the post's final numbers over the following days; about one post in
eight of the four reporting platforms never gets them, and other platforms never do.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from . import names
from .config import SandboxConfig
from .data import POST_HORIZON_DAYS, Location, day_posts, iso
from .ids import object_id, rng_for
from .metrics import profile_traits

V3 = "v3"
INSIGHT_PLATFORMS = frozenset({"facebook", "instagram", "linkedin", "youtube"})
MEDIA_PREFIX = "/_sandbox/media/"  # thumbnails are served by the sandbox itself (control.py), as SVG
TYPE_REACH = {"post": 1.0, "reel": 1.6, "story": 0.45}
ERRORS = {
    "facebook": ["Session has expired. Please reconnect the Facebook page.",
                 "(#200) The user hasn't authorized the application to perform this action."],
    "instagram": ["The aspect ratio of the image is not supported (must be between 4:5 and 1.91:1).",
                  "Media upload failed: the video is shorter than 3 seconds."],
    "linkedin": ["Content is a duplicate of a post shared recently.", "LinkedIn token expired: reconnect."],
    "google": ["Google Business Profile rejected the post: phone numbers are not allowed in the text."],
    "tiktok": ["TikTok requires a video: images are not supported for this account."],
    "youtube": ["The video could not be processed (unsupported codec)."],
    "pinterest": ["A Pinterest board must be chosen before publishing."],
}


ACTIVE_TAGS = 10  # the tags a location's posts mostly carry: its running campaigns and series
STRAY = 0.01  # the share of tagged posts that carry any of the location's tags instead (one-offs)


def running_tags(config: SandboxConfig, location: Location, tag_ids: list[str], tags: dict[str, dict]) -> list[str]:
    """The location's tags most of its posts carry: those named like the agency's running campaigns
    (names.RUNNING_CAMPAIGNS, the same names in many locations), topped up with a few of its own series.
    Real locations tag posts with a handful of campaigns, not with all of their hundreds of tags."""
    rng = rng_for(config.seed, "running-tags", location.id)
    by_name = {tags[t]["tag"].removeprefix(config.name_prefix): t for t in tag_ids if t in tags}
    chosen = [by_name[name] for name in names.RUNNING_CAMPAIGNS if name in by_name][:ACTIVE_TAGS - 3]
    others = [t for t in tag_ids if t not in chosen]
    return chosen + rng.sample(others, min(len(others), ACTIVE_TAGS - len(chosen)))


def make_posts(config: SandboxConfig, location: Location, accounts: list[dict], tag_ids: list[str],
               anchor_day: date, tags: dict[str, dict] | None = None) -> list[dict]:
    """Every post of the location's accounts from `config.days` before the anchor day to POST_HORIZON_DAYS
    after it, newest first. Insights are not part of the stored body: `with_insights` adds them per answer.
    Posts mostly carry the location's running tags (`running_tags`, from `tags`: {id: tag body})."""
    rng = rng_for(config.seed, "post-bodies", location.id)
    running = running_tags(config, location, tag_ids, tags or {}) if tag_ids else []
    posts = []
    for account in accounts:
        for day in range(-config.days, POST_HORIZON_DAYS + 1):
            for status, hour, minute, post_type in day_posts(config.seed, account["profileId"], day):
                posts.append(_post(rng, config, location, account, anchor_day + timedelta(days=day), status,
                                   hour, minute, post_type, tag_ids, running))
    posts.sort(key=lambda p: p["scheduleDate"], reverse=True)
    return posts


def _post(rng, config: SandboxConfig, location: Location, account: dict, day: date, status: str, hour: int, minute: int,
          post_type: str, tag_ids: list[str], running: list[str]) -> dict:
    when = datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute, tzinfo=UTC)
    created = when - timedelta(days=rng.randint(0, 6), minutes=rng.randint(0, 600))
    pool = tag_ids if rng.random() < STRAY or not running else running
    tags = rng.sample(pool, min(len(pool), rng.choice((0, 1, 1, 1, 2)))) if pool else []
    post_id = object_id(rng, created.timestamp())
    platform = account["platform"]
    has_media = post_type != "post" or rng.random() < 0.85
    delay = rng.randint(2, 90)  # drawn for every post, so a post's status does not shift the next posts' draws
    published = when + timedelta(seconds=delay) if status == "published" else None
    summary = config.name_prefix + rng.choice(names.POST_LINES)
    return {
        "_id": post_id, "locationId": location.id, "source": "composer",
        "platform": platform, "accountId": account["id"], "accountIds": [account["id"]],
        "postType": post_type, "type": post_type, "status": status,
        "error": rng.choice(ERRORS[platform]) if status == "failed" else None,
        "summary": summary,
        "media": [{"url": f"{MEDIA_PREFIX}{post_id}.svg", "type": "image/svg+xml"}] if has_media else [],
        "thumbnail": f"{MEDIA_PREFIX}{post_id}.svg" if has_media else None,
        "tags": tags, "createdBy": rng.choice(location.user_ids),
        "scheduleDate": iso(when), "displayDate": iso(when), "publishedAt": iso(published) if published else None,
        "createdAt": iso(created), "updatedAt": iso(max(created, min(published or when, created + timedelta(days=1)))),
    }


def insights(seed: int, post: dict, profile_id: str, now: datetime) -> dict | None:
    """The post's `insights` at `now`, or None while HighLevel would have none (see the module's note)."""
    if post["platform"] not in INSIGHT_PLATFORMS or post["status"] != "published" or not post["publishedAt"]:
        return None
    rng = rng_for(seed, "insights", post["_id"])
    if rng.random() < 0.12:
        return None
    hours = (now - datetime.fromisoformat(post["publishedAt"].replace("Z", "+00:00"))).total_seconds() / 3600
    if hours < rng.uniform(1.0, 6.0):
        return None
    traits = profile_traits(seed, profile_id)
    audience = traits["followers"] * traits["reach_per_follower"] * TYPE_REACH.get(post["postType"], 1.0)
    appeal = max((tag_appeal(seed, tag_id) for tag_id in post.get("tags") or ()), default=1.0)
    final_likes = audience * traits["engagement"] * rng.uniform(0.4, 1.8) * appeal * hour_appeal(post)
    comment_rate, share_rate = rng.uniform(0.04, 0.16), rng.uniform(0.02, 0.1)
    # Most engagement comes in the first day or two, then a slow tail for a few weeks.
    settled = 1 - math.exp(-hours / rng.uniform(10, 40))
    tail = 1 + 0.08 * min(hours / 24, 30) / 30
    likes = final_likes * settled * tail
    return {"like": int(likes), "share": int(likes * share_rate), "comment": int(likes * comment_rate)}


def tag_appeal(seed: int, tag_id: str) -> float:
    """How well a tag's posts do, from 0.35x to 2.6x: some campaigns work and some do not, so the demo's tag
    performance pages have winners and losers to show."""
    return rng_for(seed, "tag-appeal", tag_id).choice((0.35, 0.6, 0.8, 1.0, 1.0, 1.2, 1.5, 2.0, 2.6))


def hour_appeal(post: dict) -> float:
    """Posts going out mid-morning and early evening (UTC) do better: the demo's best time to post."""
    hour = datetime.fromisoformat(post["scheduleDate"].replace("Z", "+00:00")).hour
    return {9: 1.4, 10: 1.6, 11: 1.3, 17: 1.3, 18: 1.5, 19: 1.2}.get(hour, 0.9)


def plant(location_id: str, account: dict, spec: dict, now: datetime) -> dict:
    """A post with the given id, platform, status, time, tags and (v3) insights, for tests: the same body
    as generated posts, with `_insights` answered as they are (never grown, never withheld)."""
    published = spec.get("publishedAt")
    when = spec.get("scheduleDate") or published or iso(now)
    post = {
        "_id": str(spec["id"]), "locationId": location_id, "source": "composer", "platform": account["platform"],
        "accountId": account["id"], "accountIds": [account["id"]], "postType": spec.get("postType", "post"),
        "type": spec.get("postType", "post"), "status": spec.get("status", "published"),
        "error": spec.get("error"), "summary": spec.get("summary", f"Planted post {spec['id']}"), "media": [],
        "thumbnail": None, "tags": list(spec.get("tags", [])), "createdBy": spec.get("createdBy", "planted"),
        "scheduleDate": when, "displayDate": when, "publishedAt": published, "createdAt": when, "updatedAt": when,
        "_planted": True,
    }
    if spec.get("insights") is not None:
        post["_insights"] = dict(spec["insights"])
    return post


def for_answer(seed: int, post: dict, profile_id: str, now: datetime, *, version: str | None,
               base_url: str) -> dict:
    """A stored post as one answer shows it: absolute media URLs; insights only under v3."""
    shown = {k: v for k, v in post.items() if k not in ("_planted", "_insights")}  # the control API's marks
    if shown.get("thumbnail"):
        shown["thumbnail"] = base_url + shown["thumbnail"]
    shown["media"] = [{**m, "url": base_url + m["url"]} for m in post["media"]]
    if version == V3:
        found = post["_insights"] if "_insights" in post else insights(seed, post, profile_id, now)
        if found is not None:
            shown["insights"] = found
    return shown


def thumbnail_svg(post_id: str) -> bytes:
    """A small seeded picture standing in for the post's image."""
    rng = rng_for("thumbnail", post_id)
    hue = rng.randrange(360)
    shapes = "".join(
        f'<circle cx="{rng.randrange(20, 140)}" cy="{rng.randrange(20, 100)}" r="{rng.randrange(8, 34)}" '
        f'fill="hsl({(hue + rng.randrange(30, 180)) % 360},70%,{rng.randrange(45, 75)}%)" fill-opacity="0.8"/>'
        for _ in range(3)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120" viewBox="0 0 160 120">'
        f'<rect width="160" height="120" fill="hsl({hue},55%,35%)"/>{shapes}</svg>'
    ).encode()
