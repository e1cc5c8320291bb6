"""The sandbox's two statistics contracts (Version 2021-07-28: no ranges; v3: ranges), its switch that
refuses v3, and demo numbers that read like a small business's."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from sandbox.data import day_posts
from sandbox.metrics import day_metrics
from sandbox.versions import REFUSAL

from .helpers import location_pit
from .test_statistics import NOW, ask, world  # noqa: F401  (fixture)

RANGE = {"currentRange": {"startDate": "2026-02-01T00:00:00.000Z", "endDate": "2026-02-10T23:59:59.999Z"},
         "prevRange": {"startDate": "2026-01-22T00:00:00.000Z", "endDate": "2026-01-31T23:59:59.999Z"}}


def _week_before_local_today(sandbox, location_id) -> list[str]:
    zone = next(loc["timezone"] for loc in sandbox.state()["locations"] if loc["id"] == location_id)
    today = datetime.fromisoformat(NOW.replace("Z", "+00:00")).astimezone(ZoneInfo(zone)).date()
    return [(today - timedelta(days=n)).strftime("%a") for n in range(7, 0, -1)]


def test_under_2021_07_28_ranges_are_ignored_and_the_last_seven_days_answered(world):  # noqa: F811
    sandbox, location_id, pit, accounts = world
    ids = {"profileIds": [a["profileId"] for a in accounts]}
    with_ranges = ask(sandbox, location_id, pit, {**ids, **RANGE}, version="2021-07-28").json()["results"]
    without = ask(sandbox, location_id, pit, ids, version="2021-07-28").json()["results"]
    v3_default = ask(sandbox, location_id, pit, ids).json()["results"]
    assert with_ranges == without == v3_default
    assert with_ranges["dayRange"] == _week_before_local_today(sandbox, location_id)
    honoured = ask(sandbox, location_id, pit, {**ids, **RANGE}).json()["results"]
    assert honoured["dayRange"] == [(date(2026, 2, 1) + timedelta(days=n)).strftime("%a") for n in range(10)]


def test_under_2021_07_28_a_lone_prev_range_is_not_an_error(world):  # noqa: F811
    sandbox, location_id, pit, accounts = world
    body = {"profileIds": [accounts[0]["profileId"]], "prevRange": RANGE["prevRange"]}
    assert ask(sandbox, location_id, pit, body, version="2021-07-28").status_code == 200
    assert ask(sandbox, location_id, pit, body).status_code == 400  # v3: prevRange needs currentRange


def test_a_sandbox_refusing_v3_answers_400_naming_the_version_on_every_route(sandbox):
    location_id, pit = location_pit(sandbox)
    assert sandbox.refuse_v3() == {"refuse_v3": True}
    for method, path, kwargs in [
        ("POST", "/social-media-posting/statistics", {"params": {"locationId": location_id},
                                                       "json": {"profileIds": ["x"]}}),
        ("GET", f"/social-media-posting/{location_id}/tags", {}),
    ]:
        refused = sandbox.api(method, path, pit, version="v3", **kwargs)
        assert refused.status_code == 400 and refused.json()["message"] == REFUSAL
        assert sandbox.api(method, path, pit, version="2021-07-28", **kwargs).status_code in (200, 201)
    sandbox.refuse_v3(False)
    assert sandbox.api("GET", f"/social-media-posting/{location_id}/tags", pit, version="v3").status_code == 200


def test_the_refusal_switch_takes_only_a_boolean_and_a_reset_clears_it(sandbox):
    answer = sandbox.http.post(f"{sandbox.url}/_sandbox/versions", json={"refuse_v3": "yes"}, timeout=5)
    assert answer.status_code == 400
    sandbox.refuse_v3()
    sandbox.reset()
    assert sandbox.http.get(f"{sandbox.url}/_sandbox/versions", timeout=5).json() == {"refuse_v3": False}


# --- believable numbers ----------------------------------------------------------------------------------
PROFILES = [str(10**14 + n * 7919) for n in range(40)]


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_demo_numbers_read_like_a_small_business(platform):
    for profile in PROFILES:
        days = [day_metrics(1, profile, platform, 120, day, day % 7) for day in range(-120, 1)]
        followers = [d["followers"] for d in days]
        gains = [b - a for a, b in pairwise(followers)]
        assert 200 <= followers[0] <= 6_000, profile
        assert all(0 <= g <= 5 for g in gains), profile  # an audience that grows by a few a day
        assert 0 < sum(gains) / len(gains) <= 4.3
        for d in days:
            assert 0 <= d["posts"] <= 3
            assert d["reach"] <= d["impressions"]
            assert d["likes"] + d["comments"] + d["shares"] <= 0.2 * d["reach"] + 3
        engagement = sum(d["likes"] + d["comments"] + d["shares"] for d in days)
        assert engagement <= 0.1 * sum(d["reach"] for d in days)  # a small share of reach


def test_an_account_posts_zero_to_three_times_a_day():
    counts = [len(day_posts(1, profile, day)) for profile in PROFILES for day in range(-120, 14)]
    assert max(counts) <= 3 and min(counts) == 0
    assert 0.5 <= sum(counts) / len(counts) <= 1.5


def test_the_followers_total_is_the_last_days_count(world):  # noqa: F811
    sandbox, location_id, pit, accounts = world
    results = ask(sandbox, location_id, pit, {"profileIds": [a["profileId"] for a in accounts], **RANGE}
                  ).json()["results"]
    for entry in results["platformTotals"]["followers"].values():
        assert entry["total"] == entry["series"][-1]
        assert entry["series"] == sorted(entry["series"])  # never shrinking
