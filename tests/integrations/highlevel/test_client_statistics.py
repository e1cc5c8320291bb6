"""Statistics: chunking over 100 profiles, ranges as HighLevel's pages send them, typed daily series."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import responses

from integrations.highlevel import errors
from integrations.highlevel.client import render_instant
from integrations.highlevel.parsing import parse_statistics
from tests.integrations.highlevel.test_client import (  # noqa: F401  (fixtures)
    BASE,
    LOC,
    clock,
    make_client,
    recorder,
)

STATS_URL = f"{BASE}/social-media-posting/statistics"

BODY = {
    "results": {
        "dayRange": ["Mon", "Tue", "Wed"],
        "totals": {"posts": 4, "likes": 30, "followers": 1200, "impressions": 900, "comments": 5},
        "postPerformance": {"posts": {"facebook": [1, 0, 2], "instagram": [0, 1, 0]},
                            "impressions": [300, 300, 300], "likes": [10, 10, 10], "comments": [1, 2, 2]},
        "breakdowns": {
            "posts": {"total": 4, "totalChange": 33.3,
                      "platforms": {"facebook": {"value": 3, "change": 50}, "instagram": {"value": 1, "change": 0}}},
            "impressions": {"total": 900, "totalChange": -10, "platforms": {"facebook": {"value": 900, "change": -10}}},
            "reach": {"total": 700, "totalChange": None, "platforms": {}},
            "engagement": {"facebook": {"likes": 30, "comments": 5, "shares": 2, "change": 12.5}},
        },
        "platformTotals": {
            "impressions": {"facebook": {"total": 900, "series": [300, 300, 300]}},
            "followers": {"facebook": {"total": 1000, "series": [990, 995, 1000]},
                          "instagram": {"total": 200, "series": [200, None, 200]}},
            "likes": {"facebook": {"total": 30, "series": [10, 10, 10]}},
        },
        "demographics": {"gender": {"totals": {"male": {"total": 5, "percentage": 50}}},
                         "age": {"totals": {"18-24": 3}}},
        "someNewSection": {"x": 1},
    },
    "message": "Analytics Built Successfully",
    "traceId": "trace-abc",
}


@pytest.fixture
def client(make_client):  # noqa: F811
    return make_client(max_retries=2)


def test_it_reads_daily_series_per_platform_and_metric():
    stats = parse_statistics(BODY, ("p1",))
    assert stats.day_range == ("Mon", "Tue", "Wed")
    assert stats.daily("facebook", "followers") == (990, 995, 1000)
    assert stats.daily("instagram", "followers") == (200, None, 200)
    assert stats.daily("facebook", "posts") == (1, 0, 2)
    assert stats.totals["likes"] == 30
    assert stats.breakdowns["posts"].platforms["facebook"] == {"value": 3, "change": 50}
    assert stats.breakdowns["reach"].total_change is None
    assert stats.engagement["facebook"]["shares"] == 2
    assert stats.trace_id == "trace-abc"
    assert set(stats.platforms) == {"facebook", "instagram"}
    assert stats.raw["results"]["someNewSection"] == {"x": 1}


def test_a_metric_a_platform_does_not_report_is_missing_not_zero():
    stats = parse_statistics(BODY)
    assert stats.daily("instagram", "impressions") is None
    assert stats.daily("instagram", "likes") is None
    assert stats.daily("tiktok", "followers") is None
    assert "reach" not in stats.platform_totals


@pytest.mark.parametrize(
    "broken",
    [
        {"results": {"dayRange": "Mon"}},
        {"results": {"platformTotals": {"likes": {"facebook": {"total": "lots", "series": []}}}}},
        {"results": {"platformTotals": {"likes": {"facebook": {"series": {"a": 1}}}}}},
        {"results": None},
        "Analytics Built Successfully",
    ],
)
def test_a_statistics_body_of_the_wrong_shape_is_bad_response(broken):
    with pytest.raises(errors.BadResponse):
        parse_statistics(broken)


@responses.activate
def test_more_than_100_profiles_are_asked_in_chunks(client):
    responses.post(STATS_URL, json=BODY, status=201)
    profiles = [f"p{i}" for i in range(230)]
    answers = client.get_statistics(LOC, profiles, platforms=["facebook"],
                                    current_range=(date(2025, 3, 1), date(2025, 3, 31)),
                                    previous_range=(date(2025, 2, 1), date(2025, 2, 28)))
    bodies = [json.loads(c.request.body) for c in responses.calls]
    assert [len(b["profileIds"]) for b in bodies] == [100, 100, 30]
    assert [p for b in bodies for p in b["profileIds"]] == profiles
    assert bodies[0]["platforms"] == ["facebook"]
    assert bodies[0]["currentRange"] == {"startDate": "2025-03-01T00:00:00.000Z", "endDate": "2025-03-31T23:59:59.999Z"}
    assert bodies[0]["prevRange"] == {"startDate": "2025-02-01T00:00:00.000Z", "endDate": "2025-02-28T23:59:59.999Z"}
    assert all(c.request.url.endswith(f"?locationId={LOC}") for c in responses.calls)
    assert [a.profile_ids[0] for a in answers] == ["p0", "p100", "p200"]
    # BODY has 3 days, March has 31: the range was not honoured, and the answer says so
    assert len(answers[0].asked_days) == 31 and not answers[0].answers_asked_days


@responses.activate
def test_without_ranges_none_are_sent_and_any_2xx_is_accepted(client):
    responses.post(STATS_URL, json=BODY, status=200)
    (answer,) = client.get_statistics(LOC, ["p1"])
    assert "currentRange" not in json.loads(responses.calls[0].request.body)
    # No days asked, none proven: the default window is placed by its weekday names (statistics_window.py).
    assert answer.asked_days is None and not answer.answers_asked_days
    assert answer.totals["posts"] == 4


@responses.activate
def test_statistics_are_reads_and_are_retried(client):
    responses.post(STATS_URL, status=503, json={"message": "busy"})
    responses.post(STATS_URL, json=BODY, status=201)
    assert len(client.get_statistics(LOC, ["p1"])) == 1


def test_bad_arguments_fail_before_any_request(client):
    with pytest.raises(ValueError, match="previous_range needs current_range"):
        client.get_statistics(LOC, ["p1"], previous_range=(date(2025, 1, 1), date(2025, 1, 7)))
    with pytest.raises(ValueError, match="unknown platforms"):
        client.get_statistics(LOC, ["p1"], platforms=["myspace"])
    with pytest.raises(ValueError, match="start after"):
        client.get_statistics(LOC, ["p1"], current_range=(date(2025, 1, 8), date(2025, 1, 7)))
    assert client.get_statistics(LOC, []) == []


def test_instants_render_in_utc_with_milliseconds():
    plus2 = timezone(timedelta(hours=2))
    assert render_instant(datetime(2025, 3, 1, 2, 0, 0, 123456, tzinfo=plus2)) == "2025-03-01T00:00:00.123Z"
    assert render_instant(date(2025, 3, 1), end_of_day=True) == "2025-03-01T23:59:59.999Z"
    assert render_instant(datetime(2025, 3, 1, tzinfo=UTC)) == "2025-03-01T00:00:00.000Z"
    with pytest.raises(ValueError):
        render_instant(datetime(2025, 3, 1))


# --- the two contracts ------------------------------------------------------------------------------------
MON_3 = date(2025, 3, 3)  # a Monday


def _three_days(labels):
    return {**BODY, "results": {**BODY["results"], "dayRange": labels}}


@responses.activate
def test_statistics_go_with_the_social_version_and_tags_with_the_api_version(client, settings):
    responses.post(STATS_URL, json=BODY)
    responses.get(f"{BASE}/social-media-posting/{LOC}/tags", json={"results": {"tags": [], "count": 0}})
    client.get_statistics(LOC, ["p1"], current_range=(MON_3, MON_3 + timedelta(days=2)))
    list(client.iter_tags(LOC))
    assert [c.request.headers["Version"] for c in responses.calls] == ["v3", "2021-07-28"]


@responses.activate
def test_a_request_may_carry_its_own_version_and_the_client_its_own_social_version(make_client):  # noqa: F811
    responses.post(STATS_URL, json=BODY)
    make_client(social_api_version="2021-07-28").get_statistics(LOC, ["p1"])
    make_client().get_statistics(LOC, ["p1"], version="2021-07-28")
    make_client().get_statistics(LOC, ["p1"])
    assert [c.request.headers["Version"] for c in responses.calls] == ["2021-07-28", "2021-07-28", "v3"]


def test_the_social_version_is_a_setting(settings):
    from integrations.clients import highlevel_client

    settings.HIGHLEVEL_SOCIAL_API_VERSION = "v4"
    assert highlevel_client().social_version == "v4"
    assert highlevel_client().version == "2021-07-28"
    assert highlevel_client(social_version="2021-07-28").social_version == "2021-07-28"


@pytest.mark.parametrize(("status", "message"), [
    (400, "Version v3 is not supported"),
    (422, ["version must be one of the following values: 2021-04-15, 2021-07-28"]),
    (404, "Unknown API version"),
])
@responses.activate
def test_a_4xx_about_the_version_is_version_refused(client, status, message):
    responses.post(STATS_URL, status=status, json={"statusCode": status, "message": message, "traceId": "t-9"})
    with pytest.raises(errors.VersionRefused) as caught:
        client.get_statistics(LOC, ["p1"], current_range=(MON_3, MON_3))
    assert caught.value.status == status and len(responses.calls) == 1  # never retried


@responses.activate
def test_other_4xx_are_not_version_refusals(client):
    responses.post(STATS_URL, status=400, json={"statusCode": 400, "message": "Bad Request"})
    with pytest.raises(errors.ValidationError) as caught:
        client.get_statistics(LOC, ["p1"])
    assert not isinstance(caught.value, errors.VersionRefused)


@pytest.mark.parametrize(("labels", "proven"), [
    (["Mon", "Tue", "Wed"], True),
    (["monday", "TUESDAY", "Wed"], True),  # only the first three letters count
    (["Tue", "Wed", "Thu"], False),  # shifted by one day
    (["Sun", "Mon", "Tue"], False),  # shifted back by one day
    (["Mon", "Tue"], False),  # too short
    (["Mon", "Tue", "Wed", "Thu"], False),  # too long
    (["Wed", "Tue", "Mon"], False),  # out of order
])
@responses.activate
def test_an_answer_is_proven_only_when_its_day_names_are_the_asked_days(client, labels, proven):
    responses.post(STATS_URL, json=_three_days(labels))
    (answer,) = client.get_statistics(LOC, ["p1"], current_range=(MON_3, MON_3 + timedelta(days=2)))
    assert answer.answers_asked_days is proven
    assert answer.asked_days == (MON_3, MON_3 + timedelta(days=1), MON_3 + timedelta(days=2))


def test_a_series_of_plain_numbers_passes_as_it_is_and_anything_else_is_read_value_by_value():
    from integrations.highlevel.errors import BadResponse
    from integrations.highlevel.parsing.readers import _series

    assert _series([1, 2.5, None, 0], "reach") == (1, 2.5, None, 0)
    assert _series([1, "2.5", None], "reach") == (1, 2.5, None)  # a numeric string, as HighLevel sometimes sends
    for broken in ([1, True], [1, "many"], [{"v": 1}], "1,2"):
        with pytest.raises(BadResponse):
            _series(broken, "reach")
