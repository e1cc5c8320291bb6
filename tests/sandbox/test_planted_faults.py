"""The sandbox's control API plants what the goals-and-health alerts look for, and takes it back: an expired or
expiring account, a failed post with HighLevel's error text, an empty schedule, a drop in a metric. A normal
world has none of them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests

from tests.sandbox.helpers import location_pit

WINDOW = {"fromDate": "2000-01-01T00:00:00.000Z", "toDate": "2100-01-01T00:00:00.000Z", "limit": "100"}


def posts(sandbox, location_id, pit, kind="all") -> list[dict]:
    found, skip = [], 0
    while True:
        page = sandbox.api("POST", f"/social-media-posting/{location_id}/posts/list", pit,
                           json={**WINDOW, "type": kind, "skip": str(skip)}).json()["results"]["posts"]
        found += page
        if len(page) < 100:
            return found
        skip += 100


def now_of(sandbox) -> datetime:
    return datetime.fromisoformat(sandbox.clock()["now"].replace("Z", "+00:00"))


def recent(post: dict, now: datetime, days: int = 7) -> bool:
    return now - timedelta(days=days) <= datetime.fromisoformat(post["scheduleDate"].replace("Z", "+00:00")) <= now


def test_a_normal_world_has_no_expired_account_and_no_recent_failure(sandbox):
    for location in sandbox.state()["locations"]:
        accounts = sandbox.accounts(location["id"])
        assert accounts and not any(a["isExpired"] for a in accounts)
        now = now_of(sandbox)
        assert all(datetime.fromisoformat(a["expire"].replace("Z", "+00:00")) > now + timedelta(days=7)
                   for a in accounts)
        listed = posts(sandbox, location["id"], location["pit"])
        assert not [p for p in listed if p["status"] == "failed" and recent(p, now)]
        assert [p for p in listed if p["status"] == "failed"]  # older history still has failures
        ahead = [p for p in listed if p["status"] == "scheduled" and p["scheduleDate"] > sandbox.clock()["now"]]
        assert ahead


def test_an_account_expires_and_is_renewed(sandbox):
    location_id, _ = location_pit(sandbox)
    account = sandbox.accounts(location_id)[0]
    sandbox.expire_account(location_id, account["id"])
    assert next(a for a in sandbox.accounts(location_id) if a["id"] == account["id"])["isExpired"] is True
    sandbox.expire_account(location_id, account["id"], expired=False, expire_in_days=3)
    renewed = next(a for a in sandbox.accounts(location_id) if a["id"] == account["id"])
    assert renewed["isExpired"] is False
    expire = datetime.fromisoformat(renewed["expire"].replace("Z", "+00:00"))
    assert timedelta(days=2.9) < expire - now_of(sandbox) < timedelta(days=3.1)


def test_a_planted_failed_post_is_listed_with_its_error_and_then_goes_out(sandbox):
    location_id, pit = location_pit(sandbox)
    planted = sandbox.fail_post(location_id, "(#200) The user hasn't authorized the application.")
    failed = [p for p in posts(sandbox, location_id, pit, "failed") if p["_id"] == planted["_id"]]
    assert failed and failed[0]["error"] == "(#200) The user hasn't authorized the application."
    assert "_planted" not in failed[0]
    assert sandbox.publish_failed_posts(location_id) == [planted["_id"]]
    again = next(p for p in posts(sandbox, location_id, pit) if p["_id"] == planted["_id"])
    assert again["status"] == "published" and not again["error"]


def test_the_schedule_empties_and_comes_back(sandbox):
    location_id, pit = location_pit(sandbox)
    before = len(posts(sandbox, location_id, pit, "scheduled"))
    assert sandbox.empty_schedule(location_id) > 0
    now = sandbox.clock()["now"]
    assert not [p for p in posts(sandbox, location_id, pit, "scheduled") if p["scheduleDate"] > now]
    sandbox.restore_schedule(location_id)
    assert len(posts(sandbox, location_id, pit, "scheduled")) == before


def test_a_planted_drop_halves_a_metric_from_its_day_on(sandbox):
    location_id, pit = location_pit(sandbox)
    profiles = [a["profileId"] for a in sandbox.accounts(location_id)]
    today = now_of(sandbox).date()
    days = {"currentRange": {"startDate": f"{today - timedelta(days=3)}T00:00:00.000Z",
                             "endDate": f"{today - timedelta(days=1)}T23:59:59.999Z"}}

    def impressions():
        answer = sandbox.api("POST", f"/social-media-posting/statistics?locationId={location_id}", pit, version="v3",
                             json={"profileIds": profiles, **days}).json()["results"]
        return answer["postPerformance"]["impressions"]

    before = impressions()
    sandbox.drop_metric(location_id, "impressions", factor=0.5)
    after = impressions()
    assert after[:2] == before[:2]  # days before the drop keep their numbers
    assert after[2] <= before[2] * 0.5 + len(profiles)
    assert sandbox.clear_drops(location_id) == 1 and impressions() == before


@pytest.mark.parametrize(("path", "body"), [
    ("statistics/drops", {"metric": "nonsense"}),
    ("statistics/drops", {"metric": "reach", "factor": "half"}),
    ("accounts/unknown", {"isExpired": True}),
])
def test_bad_control_calls_are_refused(sandbox, path, body):
    location_id, _ = location_pit(sandbox)
    answer = requests.post(f"{sandbox.url}/_sandbox/locations/{location_id}/{path}", json=body, timeout=5)
    assert answer.status_code in (400, 404)
