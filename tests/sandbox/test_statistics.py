"""Statistics: validation, default ranges, and arithmetic that adds up."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from .helpers import location_pit

NOW = "2026-03-15T12:00:00.000Z"


def ask(sandbox, location_id, token, body, version="v3"):
    return sandbox.api("POST", "/social-media-posting/statistics", token, params={"locationId": location_id},
                       json=body, version=version)


@pytest.fixture
def world(sandbox):
    """Six accounts per location, on the platforms' full spread, at a fixed date."""
    sandbox.reset(now=NOW, accounts_per_location=[6, 6], locations=3)
    location_id, pit = location_pit(sandbox)
    accounts = sandbox.api("GET", f"/social-media-posting/{location_id}/accounts", pit).json()["results"]["accounts"]
    return sandbox, location_id, pit, accounts


def test_without_ranges_it_reports_the_last_seven_days_excluding_today(world):
    sandbox, location_id, pit, accounts = world
    answer = ask(sandbox, location_id, pit, {"profileIds": [a["profileId"] for a in accounts]})
    assert answer.status_code == 200
    body = answer.json()
    assert body["message"] == "Analytics Built Successfully"
    assert body["traceId"] == answer.headers["X-Trace-Id"]
    days = [date(2026, 3, 15) - timedelta(days=n) for n in range(7, 0, -1)]
    assert body["results"]["dayRange"] == [d.strftime("%a") for d in days]
    explicit = ask(sandbox, location_id, pit, {
        "profileIds": [a["profileId"] for a in accounts],
        "currentRange": {"startDate": "2026-03-08T00:00:00.000Z", "endDate": "2026-03-14T23:59:59.999Z"},
        "prevRange": {"startDate": "2026-03-01T00:00:00.000Z", "endDate": "2026-03-07T23:59:59.999Z"},
    }).json()
    assert explicit["results"] == body["results"]


def test_totals_equal_the_sums_of_their_series_and_changes_compare_ranges(world):
    sandbox, location_id, pit, accounts = world
    current = {"startDate": "2026-02-01T00:00:00.000Z", "endDate": "2026-02-28T23:59:59.999Z"}
    previous = {"startDate": "2026-01-04T00:00:00.000Z", "endDate": "2026-01-31T23:59:59.999Z"}
    ids = [a["profileId"] for a in accounts]
    results = ask(sandbox, location_id, pit, {"profileIds": ids, "currentRange": current, "prevRange": previous}
                  ).json()["results"]
    before = ask(sandbox, location_id, pit, {"profileIds": ids, "currentRange": previous}).json()["results"]
    assert len(results["dayRange"]) == 28
    totals, performance, breakdowns = results["totals"], results["postPerformance"], results["breakdowns"]
    assert totals["impressions"] == sum(performance["impressions"])
    assert totals["likes"] == sum(performance["likes"])
    assert totals["posts"] == sum(sum(series) for series in performance["posts"].values())
    for metric in ("impressions", "likes"):
        by_platform = results["platformTotals"][metric]
        assert all(entry["total"] == sum(entry["series"]) for entry in by_platform.values())
        assert sum(entry["total"] for entry in by_platform.values()) == totals[metric]
    followers = results["platformTotals"]["followers"]
    assert all(entry["total"] == entry["series"][-1] for entry in followers.values())
    assert totals["followers"] == sum(entry["total"] for entry in followers.values())
    assert breakdowns["impressions"]["total"] == totals["impressions"]
    previous_total = before["breakdowns"]["impressions"]["total"]
    expected = round((totals["impressions"] - previous_total) / previous_total * 100, 2)
    assert breakdowns["impressions"]["totalChange"] == expected
    for platform, entry in breakdowns["posts"]["platforms"].items():
        assert entry["value"] == sum(performance["posts"][platform])


def test_metrics_a_platform_does_not_report_are_missing_not_zero(world):
    sandbox, location_id, pit, accounts = world
    by_platform = {a["platform"]: a["profileId"] for a in accounts}
    if "google" in by_platform:
        google = ask(sandbox, location_id, pit, {"profileIds": [by_platform["google"]]}).json()["results"]
        assert "followers" not in google["totals"]
        assert "reach" not in google["breakdowns"]
        assert "google" not in google["platformTotals"]["followers"]
        assert "impressions" in google["totals"]
    if "pinterest" in by_platform:
        pinterest = ask(sandbox, location_id, pit, {"profileIds": [by_platform["pinterest"]]}).json()["results"]
        assert "comments" not in pinterest["totals"]
        assert "comments" not in pinterest["breakdowns"]["engagement"]["pinterest"]
        assert "likes" in pinterest["breakdowns"]["engagement"]["pinterest"]
    assert {"google", "pinterest"} & set(by_platform)


def test_the_platforms_filter_narrows_the_profiles(world):
    sandbox, location_id, pit, accounts = world
    platform = accounts[0]["platform"]
    results = ask(sandbox, location_id, pit, {"profileIds": [a["profileId"] for a in accounts],
                                              "platforms": [platform]}).json()["results"]
    assert set(results["postPerformance"]["posts"]) == {platform}


def test_demographics_add_up(world):
    sandbox, location_id, pit, accounts = world
    demographics = ask(sandbox, location_id, pit, {"profileIds": [a["profileId"] for a in accounts]}
                       ).json()["results"]["demographics"]
    gender = demographics["gender"]["totals"]
    assert set(gender) == {"male", "female", "unknown"}
    assert abs(sum(g["percentage"] for g in gender.values()) - 100) < 0.1
    assert set(demographics["age"]["totals"]) == {"13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"}


def test_the_same_seed_gives_the_same_numbers(world):
    sandbox, location_id, pit, accounts = world
    body = {"profileIds": [a["profileId"] for a in accounts]}
    first = ask(sandbox, location_id, pit, body).json()["results"]
    sandbox.reset(now=NOW, accounts_per_location=[6, 6], locations=3)
    assert ask(sandbox, location_id, pit, body).json()["results"] == first


@pytest.mark.parametrize("body", [
    {"profileIds": [str(n) for n in range(101)]},
    {"profileIds": []},
    {"profileIds": ["1"], "currentRange": {"startDate": "yesterday", "endDate": "2026-03-01T00:00:00Z"}},
    {"profileIds": ["1"], "currentRange": {"startDate": "2026-03-02T00:00:00Z", "endDate": "2026-03-01T00:00:00Z"}},
    {"profileIds": ["1"], "platforms": ["myspace"]},
    {"profileIds": ["1"], "prevRange": {"startDate": "2026-03-01T00:00:00Z", "endDate": "2026-03-02T00:00:00Z"}},
])
def test_bad_requests_are_400(world, body):
    sandbox, location_id, pit, _ = world
    answer = ask(sandbox, location_id, pit, body)
    assert answer.status_code == 400
    assert answer.json()["statusCode"] == 400


def test_days_after_today_have_happened_to_nobody(world):
    sandbox, location_id, pit, accounts = world
    ids = [a["profileId"] for a in accounts]
    results = ask(sandbox, location_id, pit, {"profileIds": ids, "currentRange": {
        "startDate": "2026-03-14T00:00:00.000Z", "endDate": "2026-03-17T23:59:59.999Z"}}).json()["results"]
    impressions = results["postPerformance"]["impressions"]
    assert impressions[0] > 0 and impressions[2:] == [0, 0]
    for entry in results["platformTotals"]["followers"].values():
        assert entry["series"][1] == entry["series"][2] == entry["series"][3] > 0
