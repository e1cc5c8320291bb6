"""The sandbox's posts under both contracts: no insights under 2021-07-28; under v3 insights on most
published posts of Facebook, Instagram, LinkedIn and YouTube only, growing with the sandbox clock; posts that
look real (statuses, errors, summaries, thumbnails it serves, tags, 0 to 3 per account and day), from the seed."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sandbox.posts import INSIGHT_PLATFORMS
from tests.sandbox.helpers import location_pit

WINDOW = {"fromDate": "2000-01-01T00:00:00.000Z", "toDate": "2100-01-01T00:00:00.000Z"}


def every_post(sandbox, version: str) -> list[dict]:
    location_id, pit = location_pit(sandbox)
    found, skip = [], 0
    while True:
        answer = sandbox.api("POST", f"/social-media-posting/{location_id}/posts/list", pit, version=version,
                             json={**WINDOW, "skip": str(skip), "limit": "100"})
        assert answer.status_code == 200
        page = answer.json()["results"]["posts"]
        found += page
        if len(page) < 100:
            return found
        skip += 100


def test_under_2021_07_28_no_post_carries_insights(sandbox):
    posts = every_post(sandbox, "2021-07-28")
    assert posts and not any("insights" in p for p in posts)


def test_under_v3_most_published_posts_of_the_four_platforms_carry_insights_and_no_other_does(sandbox):
    posts = every_post(sandbox, "v3")
    with_insights = [p for p in posts if "insights" in p]
    assert with_insights
    assert all(p["platform"] in INSIGHT_PLATFORMS and p["status"] == "published" for p in with_insights)
    reporting = [p for p in posts if p["platform"] in INSIGHT_PLATFORMS and p["status"] == "published"]
    assert len(with_insights) / len(reporting) > 0.75
    for post in with_insights:
        counts = post["insights"]
        assert set(counts) == {"like", "share", "comment"}
        assert all(isinstance(v, int) and v >= 0 for v in counts.values())
        assert counts["comment"] <= counts["like"] and counts["share"] <= counts["like"]
    assert max(p["insights"]["like"] for p in with_insights) > 0


def test_insights_grow_as_the_sandbox_clock_moves_and_never_shrink(sandbox):
    anchor = datetime.fromisoformat(sandbox.clock()["anchor"].replace("Z", "+00:00"))
    # The newest post before the anchor that gets insights at all, looked at 20 minutes after it went out.
    sandbox.set_now((anchor + timedelta(days=3)).isoformat())
    settled = [p for p in every_post(sandbox, "v3") if p.get("insights") and p["publishedAt"] < anchor.isoformat()]
    newest = max(datetime.fromisoformat(p["publishedAt"].replace("Z", "+00:00")) for p in settled)
    sandbox.set_now((newest + timedelta(minutes=20)).isoformat())
    before = {p["_id"]: p.get("insights") for p in every_post(sandbox, "v3")}
    sandbox.advance(3 * 86400)
    after = {p["_id"]: p.get("insights") for p in every_post(sandbox, "v3")}
    grew = 0
    for post_id, was in before.items():
        if was is None:
            continue
        now = after[post_id]
        assert all(now[k] >= was[k] for k in was)
        grew += now["like"] > was["like"]
    assert grew > 0
    # Posts published hours before the first look had none yet, and have them now ("populated asynchronously").
    assert any(before[i] is None and after[i] is not None for i in before)


def test_posts_look_real(sandbox):
    posts = every_post(sandbox, "v3")
    now = datetime.fromisoformat(sandbox.clock()["now"].replace("Z", "+00:00"))
    statuses = Counter(p["status"] for p in posts)
    assert statuses["published"] > statuses["failed"] > 0 and statuses["scheduled"] > 0
    for post in posts:
        assert post["summary"] and post["displayDate"] and isinstance(post["tags"], list)
        assert (post["status"] == "failed") == bool(post["error"])
        assert (post["status"] == "published") == bool(post["publishedAt"])
        if post["status"] == "scheduled":
            assert post["scheduleDate"] >= now.date().isoformat()
    assert sum(bool(p["thumbnail"]) for p in posts) > len(posts) * 0.8
    assert any(p["tags"] for p in posts)
    per_day = Counter((p["accountId"], p["scheduleDate"][:10]) for p in posts)
    assert max(per_day.values()) <= 3


def test_thumbnails_are_served_by_the_sandbox(sandbox):
    post = next(p for p in every_post(sandbox, "v3") if p["thumbnail"])
    assert post["thumbnail"].startswith(sandbox.url + "/_sandbox/media/")
    image = sandbox.http.get(post["thumbnail"], timeout=5)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/svg+xml"
    assert image.content.startswith(b"<svg")


def test_the_same_seed_gives_the_same_posts_and_insights(sandbox):
    now = sandbox.clock()["now"]
    first = every_post(sandbox, "v3")
    sandbox.reset(now=now)
    assert every_post(sandbox, "v3") == first


def test_posts_mostly_carry_a_handful_of_running_campaigns_shared_across_locations():
    """The demo's tag performance has tags with enough posts to rank, campaigns in several locations, and
    weekday-hour cells with enough posts for the best-time heatmap."""
    from sandbox.config import SandboxConfig
    from sandbox.names import POSTING_HOURS
    from sandbox.state import Sandbox

    sb = Sandbox(SandboxConfig(seed=3, days=90))
    names_by_location = []
    for location_id in sb.skeleton.locations:
        made, posts = sb.location(location_id), sb.posts(location_id)
        used = Counter(t for p in posts if p["status"] == "published" for t in p["tags"])
        assert sum(1 for n in used.values() if n >= 5) > len(used) / 2  # most used tags: a real sample
        names_by_location.append({made.tags[t]["tag"].casefold() for t, n in used.items() if n >= 5})
        hours = Counter(datetime.fromisoformat(p["scheduleDate"].replace("Z", "+00:00")).hour for p in posts)
        assert set(hours) <= set(POSTING_HOURS)  # habitual slots
    locations_of = Counter(name for names in names_by_location for name in names)
    assert sum(1 for n in locations_of.values() if n >= 2) >= 5  # the same campaigns run in several locations
    assert max(locations_of.values()) >= 3
