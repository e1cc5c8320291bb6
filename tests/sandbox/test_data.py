"""The seeded world: same seed, same world; realistic shapes; lazy and fast generation."""

from __future__ import annotations

import re

from sandbox.config import SandboxConfig
from sandbox.state import Sandbox

from .helpers import location_pit

NOW = "2026-03-15T12:00:00.000Z"


def world(**overrides) -> Sandbox:
    return Sandbox(SandboxConfig(now=NOW).with_overrides(overrides))


def snapshot(sb: Sandbox) -> dict:
    location_id = next(iter(sb.skeleton.locations))
    made = sb.location(location_id)
    return {
        "agencies": list(sb.skeleton.agencies),
        "locations": [loc.summary() for loc in sb.skeleton.locations.values()],
        "pits": dict(sb.pits),
        "tags": made.tags,
        "accounts": made.accounts,
        "posts": sb.posts(location_id)[:50],
    }


def test_the_same_seed_gives_the_same_world():
    assert snapshot(world(seed=7)) == snapshot(world(seed=7))


def test_a_different_seed_gives_a_different_world():
    one, two = snapshot(world(seed=7)), snapshot(world(seed=8))
    assert one["agencies"] != two["agencies"]
    assert one["locations"] != two["locations"]
    assert set(one["tags"]).isdisjoint(two["tags"])


def test_ids_look_like_highlevel_ids():
    sb = world(locations=5)
    assert len(sb.skeleton.locations) == 5
    for location in sb.skeleton.locations.values():
        assert re.fullmatch(r"[A-Za-z0-9]{20}", location.id)
        assert re.fullmatch(r"[A-Za-z0-9]{20}", location.company_id)
        assert "/" in location.timezone
        assert re.fullmatch(r"pit-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                            sb.pits[location.id])
    assert len({loc.timezone for loc in sb.skeleton.locations.values()}) > 1


def test_a_location_has_exactly_the_configured_tags_with_unique_names_and_a_few_deleted():
    sb = world(tags=2000)
    tags = list(sb.location(next(iter(sb.skeleton.locations))).tags.values())
    assert len(tags) == 2000
    assert len({t["tag"] for t in tags}) == 2000
    deleted = sum(t["deleted"] for t in tags)
    assert 20 < deleted < 110  # about 3%
    tag = tags[0]
    assert set(tag) == {"_id", "tag", "locationId", "createdBy", "deleted", "createdAt", "updatedAt"}
    assert re.fullmatch(r"[0-9a-f]{24}", tag["_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", tag["createdAt"])
    assert all(t["updatedAt"] >= t["createdAt"] for t in tags)


def test_accounts_span_platforms_with_the_documented_fields():
    sb = world(locations=6)
    platforms = set()
    for location_id in sb.skeleton.locations:
        made = sb.location(location_id)
        assert 3 <= len(made.accounts) <= 6
        for account in made.accounts:
            expected = {"id", "oauthId", "profileId", "name", "platform", "type", "expire", "isExpired", "meta"}
            assert expected <= set(account)
            platforms.add(account["platform"])
        for group in made.groups:
            assert set(group) == {"id", "name", "accountIds"}
    assert len(platforms) >= 5


def test_posts_carry_tag_ids_and_statuses():
    sb = world()
    location_id = next(iter(sb.skeleton.locations))
    posts = sb.posts(location_id)
    tag_ids = set(sb.location(location_id).tags)
    assert {p["status"] for p in posts} >= {"published", "scheduled", "failed"}
    tagged = [p for p in posts if p["tags"]]
    assert tagged and all(set(p["tags"]) <= tag_ids for p in tagged)


def test_generation_is_lazy():
    """A world of many locations costs nothing until a location is asked for, and each is made once
    (how fast that is, bench/sandbox_throughput.py measures)."""
    sb = world(locations=20, tags=2000)
    assert sb._locations == {}
    first = next(iter(sb.skeleton.locations))
    made = sb.location(first)
    assert len(made.tags) == 2000
    assert list(sb._locations) == [first]
    assert sb.location(first) is made


def test_fifty_thousand_tags_in_one_location_work():
    sb = world(locations=1, tags=50_000)
    tags = sb.location(next(iter(sb.skeleton.locations))).tags
    assert len(tags) == 50_000
    assert {tag["_id"] for tag in tags.values()} == set(tags)


def test_the_served_world_is_the_seeded_world(sandbox):
    state = sandbox.state()
    assert state["config"]["seed"] == 1
    location_id, pit = location_pit(sandbox)
    before = sandbox.tags(location_id)
    sandbox.reset()
    assert sandbox.tags(location_id) == before
    assert sandbox.state()["locations"][0]["pit"] == pit
    reseeded = sandbox.reset(seed=2)
    assert reseeded["locations"][0]["id"] != location_id
