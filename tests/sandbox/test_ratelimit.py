"""Rate limits per app and resource: a strict sliding burst window and a daily quota, with headers."""

from __future__ import annotations

import time

from .helpers import location_pit


def tags(sandbox, location_id, token):
    return sandbox.api("GET", f"/social-media-posting/{location_id}/tags", token, params={"limit": "1"})


def test_the_request_over_the_burst_limit_is_429_with_headers(sandbox):
    sandbox.reset(burst_limit=5, burst_window_ms=1000)
    location_id, pit = location_pit(sandbox)
    answers = [tags(sandbox, location_id, pit) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    limited = answers[-1]
    assert limited.json() == {"statusCode": 429, "message": "Too Many Requests"}
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["X-RateLimit-Max"] == "5"
    assert limited.headers["X-RateLimit-Interval-Milliseconds"] == "1000"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Daily-Remaining"] == str(200_000 - 5)
    stats = sandbox.stats()
    assert stats["rate_limited"] == 1
    assert stats["resources"][location_id] == {"count": 6, "max_burst": 6, "rate_limited": 1}


def test_each_resource_has_its_own_window(sandbox):
    sandbox.reset(burst_limit=3, burst_window_ms=1000)
    first, second = sandbox.state()["locations"][:2]
    assert [tags(sandbox, first["id"], first["pit"]).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert tags(sandbox, second["id"], second["pit"]).status_code == 200


def test_the_window_slides(sandbox):
    sandbox.reset(burst_limit=2, burst_window_ms=150)
    location_id, pit = location_pit(sandbox)
    assert [tags(sandbox, location_id, pit).status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(0.2)
    assert tags(sandbox, location_id, pit).status_code == 200


def test_the_daily_quota_runs_out(sandbox):
    sandbox.reset(daily_limit=3)
    location_id, pit = location_pit(sandbox)
    answers = [tags(sandbox, location_id, pit) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[2].headers["X-RateLimit-Daily-Remaining"] == "0"
    assert int(answers[3].headers["Retry-After"]) > 0
    sandbox.advance(86400)  # a new sandbox-clock day
    assert tags(sandbox, location_id, pit).status_code == 200
